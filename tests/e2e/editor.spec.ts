/**
 * The editor end to end, against the real server and the real default models: build,
 * refuse a bad connection, edit, run with live previews, inspect, play and download the
 * video, save, reload and reopen, open dropped files, survive a dropped socket and a
 * server restart. Every step leaves a screenshot in test-output/e2e/.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { JobSummary } from '../../nodes/core/protocol';
import { OUT_DIR, Shots, waitFor, watchPage, type RunningServer } from './harness';
import { center, dropFile, handleSel, nodeIds, nodeSel, promptText } from './page';
import { assert, type Spec } from './spec';

const PROMPT = 'a green heart moving up on a sand background';

async function job(server: RunningServer, id: string): Promise<JobSummary> {
  const res = await fetch(`${server.url}/api/jobs/${id}`);
  return (await res.json()) as JobSummary;
}

export const spec: Spec = {
  name: 'editor',
  timeoutMs: 20 * 60_000,
  async run({ browser, server, step }) {
    const context = await browser.newContext({ viewport: { width: 1600, height: 950 }, acceptDownloads: true });
    const page = await context.newPage();
    const watch = watchPage(page);
    page.on('dialog', (d) => void d.accept());
    const shots = new Shots('editor');
    let jobId = '';
    let videoFile = '';

    await step('open the page: palette from /api/nodes, default workflow drawn', async () => {
      await page.goto(server.url);
      await page.locator('[data-testid="palette-keyframes"]').waitFor({ timeout: 20_000 });
      await page.locator(nodeSel('keyframes')).waitFor({ timeout: 20_000 });
      await waitFor('the socket', async () => (await page.locator('[data-testid="conn"]').textContent())?.includes('live'));
      await shots.take(page, 'opened');
    });

    await step('load the default workflow from the examples gallery', async () => {
      await page.click('[data-testid="open"]');
      await page.locator('[data-testid="gallery"]').waitFor();
      await shots.take(page, 'gallery');
      await page.click('[data-testid="open-example-text-to-video"]');
      await page.locator('[data-testid="gallery"]').waitFor({ state: 'detached' });
      const ids = await nodeIds(page);
      for (const id of ['prompt', 'prior', 'keyframes', 'interpolate', 'upscale', 'export']) assert(ids.includes(id), `node ${id} missing: ${ids.join(',')}`);
      // Handles carry the port kind colours.
      const colour = await page.locator(handleSel('keyframes', 'source', 'frames')).evaluate((el) => getComputedStyle(el).backgroundColor);
      assert(colour === 'rgb(86, 204, 242)', `frames handle colour ${colour}`);
      await waitFor('validation', async () => !(await page.locator('[data-testid="validity"]').textContent())?.includes('checking'), 15_000);
      await shots.take(page, 'default-workflow');
    });

    await step('an invalid connection is refused with its reason', async () => {
      const before = await page.evaluate(() => window.__studio!.workflow().edges.length);
      const from = await center(page, handleSel('prompt', 'source', 'text'));
      const to = await center(page, handleSel('interpolate', 'target', 'frames'));
      await page.mouse.move(from.x, from.y);
      await page.mouse.down();
      await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2 + 40, { steps: 8 });
      await page.mouse.move(to.x, to.y, { steps: 8 });
      await page.locator('[data-testid="connection-hint"]').waitFor({ timeout: 5000 });
      await shots.take(page, 'refusing-connection');
      await page.mouse.up();
      const toast = page.locator('[data-testid="toast-refusal"]');
      await toast.waitFor({ timeout: 5000 });
      const text = (await toast.textContent()) ?? '';
      assert(/text-embedding.*cannot feed.*frames/.test(text), `refusal says: ${text}`);
      const after = await page.evaluate(() => window.__studio!.workflow().edges.length);
      assert(after === before, `edge count changed ${before} -> ${after}`);
      await shots.take(page, 'connection-refused');
    });

    await step('edit: add from the palette and the search, undo/redo, duplicate, delete, seed', async () => {
      const n0 = (await nodeIds(page)).length;
      await page.dragAndDrop('[data-testid="palette-preview"]', '[data-testid="canvas"]', { targetPosition: { x: 500, y: 700 } });
      await waitFor('the dropped node', async () => (await nodeIds(page)).length === n0 + 1, 5000);
      await page.keyboard.press('Control+z');
      await waitFor('undo', async () => (await nodeIds(page)).length === n0, 5000);
      await page.keyboard.press('Control+Shift+z');
      await waitFor('redo', async () => (await nodeIds(page)).length === n0 + 1, 5000);
      await page.click(`${nodeSel('preview')} .node-header`);
      await page.keyboard.press('Control+d');
      await waitFor('duplicate', async () => (await nodeIds(page)).length === n0 + 2, 5000);
      await page.keyboard.press('Delete');
      await waitFor('delete', async () => (await nodeIds(page)).length === n0 + 1, 5000);
      await page.click(`${nodeSel('preview')} .node-header`);
      await page.keyboard.press('Control+c');
      await page.keyboard.press('Control+v');
      await waitFor('paste', async () => (await nodeIds(page)).length === n0 + 2, 5000);
      await page.keyboard.press('Delete');
      await waitFor('delete the pasted node', async () => (await nodeIds(page)).length === n0 + 1, 5000);
      await page.keyboard.press('Control+a');
      await waitFor('select all', async () => (await page.locator('.react-flow__node.selected').count()) === n0 + 1, 5000);
      await page.keyboard.press('Escape');
      // Double-click on empty canvas opens the node search.
      const canvas = (await page.locator('[data-testid="canvas"]').boundingBox())!;
      await page.mouse.dblclick(canvas.x + canvas.width * 0.3, canvas.y + canvas.height * 0.2);
      await page.locator('[data-testid="search-popup"] input').fill('prev');
      await shots.take(page, 'node-search');
      await page.keyboard.press('Enter');
      await waitFor('search add', async () => (await nodeIds(page)).length === n0 + 2, 5000);
      await shots.take(page, 'edited-graph');
      // Put the graph back as it was for the run.
      for (let i = 0; i < 10 && (await nodeIds(page)).length > n0; i++) await page.keyboard.press('Control+z');
      assert((await nodeIds(page)).length === n0, 'undo back to the start');
      const seedInput = page.locator(`${nodeSel('keyframes')} [data-field="seed"] input`);
      const seedBefore = await seedInput.inputValue();
      await page.click(`${nodeSel('keyframes')} [data-testid="randomise-seed"]`);
      await waitFor('a new seed', async () => (await seedInput.inputValue()) !== seedBefore, 3000);
    });

    await step('edit the prompt; inline validation marks a bad word, then clears', async () => {
      const textarea = page.locator(`${nodeSel('prompt')} textarea`);
      await textarea.fill('a zzqx circle moving right on a navy background');
      await waitFor('a problem on the prompt', async () => (await page.locator(`${nodeSel('prompt')} .param-problem`).count()) > 0, 10_000);
      await shots.take(page, 'prompt-problem');
      await textarea.fill(PROMPT);
      await waitFor('valid again', async () => (await page.locator('[data-testid="validity"]').textContent())?.includes('✓ valid'), 10_000);
      await shots.take(page, 'prompt-edited');
    });

    await step('run (Ctrl+Enter): previews arrive live on at least three nodes', async () => {
      await page.locator(`${nodeSel('prompt')} textarea`).focus();
      await page.keyboard.press('Control+Enter');
      jobId = await waitFor('the job id', () => page.evaluate(() => window.__studio!.activeJobId()), 10_000);
      let shotsTaken = 0;
      const painted = await waitFor(
        'previews on three nodes',
        async () => {
          const p = await page.evaluate(() => window.__studio!.metrics.painted);
          if (shotsTaken < Object.keys(p).length && shotsTaken < 2) {
            shotsTaken = Object.keys(p).length;
            await shots.take(page, `running-previews-on-${shotsTaken}-nodes`);
          }
          return Object.keys(p).filter((k) => p[k]! > 0).length >= 3 ? p : null;
        },
        10 * 60_000,
        200,
      );
      const canvases = await page.locator('.studio-node canvas[data-painted]').evaluateAll((els) =>
        els.filter((c) => Number((c as HTMLCanvasElement).dataset.painted) > 0 && (c as HTMLCanvasElement).width > 0).length,
      );
      assert(canvases >= 3, `painted canvases on nodes: ${canvases} (${JSON.stringify(painted)})`);
      await shots.take(page, 'previews-on-three-nodes');
    });

    await step('the job finishes; every node shows done or cached with its time', async () => {
      const done = await waitFor(
        'the job to finish',
        async () => {
          const j = await job(server, jobId);
          if (j.status === 'failed' || j.status === 'cancelled') throw new Error(`job ${j.status}: ${j.error ?? ''}`);
          return j.status === 'finished' ? j : null;
        },
        10 * 60_000,
        500,
      );
      await waitFor('node badges', async () => (await page.locator(`${nodeSel('keyframes')} [data-testid="node-state"]`).textContent())?.startsWith('done'), 10_000);
      for (const id of Object.keys(done.nodes)) {
        const state = await page.locator(nodeSel(id)).getAttribute('data-state');
        assert(state === 'done' || state === 'cached', `node ${id} shows ${state}`);
      }
      await page.click('[data-testid="tab-queue"]');
      await page.locator(`[data-testid="job-${jobId}"][data-status="finished"]`).waitFor({ timeout: 5000 });
      await shots.take(page, 'finished-queue');
    });

    await step('inspect the keyframes: scrub, step slider, play', async () => {
      await page.click(`${nodeSel('keyframes')} .node-header`);
      await page.click('[data-testid="tab-inspect"]');
      await page.locator('[data-testid="scrubber"]').waitFor({ timeout: 10_000 });
      const info = page.locator('[data-testid="frame-info"]');
      assert((await info.textContent())?.startsWith('frame 1/'), `frame info: ${await info.textContent()}`);
      await page.locator('[data-testid="scrubber"]').focus();
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
      await waitFor('frame 4', async () => (await info.textContent())?.startsWith('frame 4/'), 3000);
      await waitFor('the frame image', () => page.locator('[data-testid="inspector-frame"]').evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0), 5000);
      await shots.take(page, 'inspector-scrubbed');
      const steps = page.locator('[data-testid="step-slider"]');
      if ((await steps.count()) > 0) {
        await steps.focus();
        await page.keyboard.press('Home');
        await page.keyboard.press('ArrowRight');
        await waitFor('a step frame', () => page.locator('[data-testid="inspector-frame"]').evaluate((img) => (img as HTMLImageElement).src.includes('/steps/') && (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0), 5000);
        await shots.take(page, 'inspector-denoising-step');
        await page.keyboard.press('End');
      }
      await page.click('[data-testid="play"]');
      const start = await info.textContent();
      await waitFor('playback to advance', async () => (await info.textContent()) !== start, 3000);
      await page.click('[data-testid="play"]');
    });

    await step('compare interpolated against keyframes with a wipe', async () => {
      await page.click(`${nodeSel('interpolate')} .node-header`);
      await page.locator('[data-testid="compare-select"]').waitFor({ timeout: 10_000 });
      await page.selectOption('[data-testid="compare-select"]', 'keyframes');
      await page.locator('[data-testid="side-by-side"]').waitFor({ timeout: 5000 });
      await shots.take(page, 'compare-side-by-side');
      await page.click('[data-testid="wipe-mode"]');
      await page.locator('[data-testid="wipe"]').waitFor({ timeout: 5000 });
      await shots.take(page, 'compare-wipe');
    });

    await step('the final video plays in the page and downloads', async () => {
      await page.click('[data-testid="tab-result"]');
      const video = page.locator('[data-testid="result-video"]');
      await video.waitFor({ timeout: 10_000 });
      await video.evaluate((v) => (v as HTMLVideoElement).play());
      await waitFor('the video to play', () => video.evaluate((v) => (v as HTMLVideoElement).currentTime > 0.2 && (v as HTMLVideoElement).videoWidth > 0), 15_000);
      await shots.take(page, 'result-video');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-result"]')]);
      videoFile = path.join(OUT_DIR, download.suggestedFilename());
      await download.saveAs(videoFile);
      assert(statSync(videoFile).size > 1000, `downloaded ${statSync(videoFile).size} bytes`);
    });

    await step('drag the exported video in: its embedded workflow opens', async () => {
      assert(videoFile, 'no video was downloaded');
      const ext = path.extname(videoFile).slice(1);
      await dropFile(page, { name: path.basename(videoFile), type: ext === 'webm' ? 'video/webm' : ext === 'gif' ? 'image/gif' : 'video/mp4', base64: readFileSync(videoFile).toString('base64') });
      await waitFor('the embedded workflow', async () => (await promptText(page)) === PROMPT, 10_000);
      await shots.take(page, 'dropped-video');
    });

    await step('cancel a running job', async () => {
      await page.click(`${nodeSel('keyframes')} [data-testid="randomise-seed"]`);
      await page.click('[data-testid="run"]');
      const before = jobId;
      const id = await waitFor('a new job', async () => {
        const j = await page.evaluate(() => window.__studio!.activeJobId());
        return j !== before ? j : null;
      });
      await waitFor('keyframes running', async () => (await page.locator(nodeSel('keyframes')).getAttribute('data-state')) === 'running', 60_000, 50);
      await page.click('[data-testid="cancel"]');
      await waitFor('the job cancelled', async () => (await job(server, id!)).status === 'cancelled', 30_000, 200);
      await page.click('[data-testid="tab-queue"]');
      await page.locator(`[data-testid="job-${id}"][data-status="cancelled"]`).waitFor({ timeout: 5000 });
      await waitFor('keyframes shows it', async () => (await page.locator(nodeSel('keyframes')).getAttribute('data-state')) === 'cancelled', 5000);
      await shots.take(page, 'cancelled');
    });

    await step('no errors in the page', async () => {
      assert(watch.errors.length === 0, `page errors:\n${watch.errors.join('\n')}`);
    });

    await context.close();
  },
};
