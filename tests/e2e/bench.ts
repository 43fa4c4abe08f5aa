/**
 * Browser benchmark of the editor against the real server and models: from pressing Run
 * to the first preview painted (the budget: 300 ms plus the first diffusion
 * step), and how long the UI's longest frame is while previews stream (budget: 50 ms).
 * `npx tsx tests/e2e/bench.ts` prints the rows; bench/run.ts may import browserBench().
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobSummary } from '../../nodes/core/protocol';
import { buildClient, launchBrowser, startServer, waitFor } from './harness';
import { nodeSel } from './page';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
}

/**
 * Installed before the page's own scripts: long tasks and the times of all frames. A
 * string, not a function: tsx would wrap named inner functions in a helper the page lacks.
 */
const PROBES = `
  window.__bench = { longTasks: [], frames: [] };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__bench.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  requestAnimationFrame(function loop(t) {
    window.__bench.frames.push(t);
    if (window.__bench.frames.length > 100000) window.__bench.frames.splice(0, 50000);
    requestAnimationFrame(loop);
  });
`;

/** `url`: an already running server (e.g. while working on the UI); otherwise one is started. */
export async function browserBench(opts: { url?: string } = {}): Promise<BenchRow[]> {
  buildClient();
  const server = opts.url ? { url: opts.url, stop: async () => undefined } : await startServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 950 } });
    await page.addInitScript({ content: PROBES });
    await page.goto(server.url);
    await page.locator(nodeSel('keyframes')).waitFor({ timeout: 30_000 });
    await waitFor('the socket', async () => (await page.locator('[data-testid="conn"]').textContent())?.includes('live'), 15_000);
    await waitFor('validation', async () => (await page.locator('[data-testid="validity"]').textContent())?.includes('✓ valid'), 30_000);
    // A seed of our own so nothing comes from the cache.
    await page.locator(`${nodeSel('keyframes')} [data-field="seed"] input`).fill(String(1000 + Math.floor(Math.random() * 1e6)));
    await page.waitForTimeout(300);

    await page.click('[data-testid="run"]');
    const jobId = await waitFor('the job id', () => page.evaluate(() => window.__studio!.activeJobId()), 15_000);
    await waitFor('the first preview', () => page.evaluate(() => window.__studio!.metrics.firstPaintAt), 10 * 60_000, 20);
    const finished = await waitFor(
      'the job to finish',
      async () => {
        const job = (await (await fetch(`${server.url}/api/jobs/${jobId}`)).json()) as JobSummary;
        if (job.status === 'failed' || job.status === 'cancelled') throw new Error(`job ${job.status}: ${job.error ?? ''}`);
        return job.status === 'finished' ? job : null;
      },
      10 * 60_000,
      250,
    );
    await page.waitForTimeout(500);
    const m = await page.evaluate((id) => {
      const s = window.__studio!.metrics;
      const b = (window as unknown as { __bench: { longTasks: { start: number; duration: number }[]; frames: number[] } }).__bench;
      // While previews stream: from the first paint to the last.
      const from = s.firstPaintAt!;
      const to = s.lastPaintAt!;
      const frames = b.frames.filter((t) => t >= from && t <= to);
      let maxGap = 0;
      for (let i = 1; i < frames.length; i++) maxGap = Math.max(maxGap, frames[i]! - frames[i - 1]!);
      const longTasks = b.longTasks.filter((t) => t.start + t.duration >= from && t.start <= to);
      const firstStep = s.firstProgressAt[`${id}/keyframes`] ?? null;
      return {
        toFirstPaint: s.firstPaintAt! - s.runPressedAt!,
        toFirstStep: firstStep === null ? null : firstStep - s.runPressedAt!,
        streamMs: to - from,
        maxGap,
        longest: longTasks.reduce((a, t) => Math.max(a, t.duration), 0),
        longCount: longTasks.length,
        painted: Object.values(s.painted).reduce((a, n) => a + n, 0),
        latency: s.latency,
        client: s.clientLatency,
        received: s.received,
      };
    }, jobId);
    const rows: BenchRow[] = [
      { name: 'editor: Run pressed -> first preview painted', value: Math.round(m.toFirstPaint), unit: 'ms' },
    ];
    if (m.toFirstStep !== null) {
      rows.push({ name: 'editor: Run pressed -> first keyframes step event', value: Math.round(m.toFirstStep), unit: 'ms' });
      rows.push({ name: 'editor: first preview painted after the first step (budget 300)', value: Math.round(m.toFirstPaint - m.toFirstStep), unit: 'ms' });
    }
    if (m.latency.count > 0) {
      rows.push(
        { name: 'editor: first preview, produced on the server -> painted', value: Math.round(m.latency.first ?? 0), unit: 'ms' },
        { name: 'editor: previews, produced -> painted (mean)', value: Math.round(m.latency.sum / m.latency.count), unit: 'ms' },
        { name: 'editor: previews, produced -> painted (max)', value: Math.round(m.latency.max), unit: 'ms' },
        { name: 'editor: previews, received -> painted in the page (mean)', value: Math.round(m.client.sum / m.client.count), unit: 'ms' },
        { name: 'editor: previews, received -> painted in the page (max)', value: Math.round(m.client.max), unit: 'ms' },
      );
    }
    rows.push(
      { name: 'editor: longest long task while previews stream (budget 50)', value: Math.round(m.longest), unit: 'ms' },
      { name: 'editor: long tasks (>50 ms) while previews stream', value: m.longCount, unit: 'count' },
      { name: 'editor: longest gap between frames while previews stream', value: Math.round(m.maxGap), unit: 'ms' },
      { name: 'editor: previews received', value: m.received, unit: 'count' },
      { name: 'editor: previews painted per second of streaming', value: Math.round((m.painted / Math.max(1, m.streamMs)) * 1000 * 10) / 10, unit: '1/s' },
      { name: 'editor: job time (server)', value: finished.ms ?? 0, unit: 'ms' },
    );
    return rows;
  } finally {
    await browser.close();
    await server.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const rows = await browserBench({ url: process.env.E2E_SERVER_URL });
  for (const r of rows) console.log(`${r.name.padEnd(72)} ${String(r.value).padStart(8)} ${r.unit}`);
}
