/**
 * Engine numbers, all from one process and one run: overhead over raw ONNX Runtime time,
 * cached re-runs, first-preview latency over the real WebSocket, and how time and memory
 * grow with frames and resolution.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registry } from '../nodes/registry';
import { parseWorkflow, type Workflow } from '../nodes/core/workflow';
import { NodeOutputCache } from '../server/engine/cache';
import { executeWorkflow } from '../server/engine/executor';
import { DEFAULT_WORKFLOW, MODELS_DIR, WORKFLOWS_DIR } from '../server/paths';
import { ModelRuntime } from '../server/runtime/models';
import { follow, startTestStudio } from '../tests/helpers/studio';
import type { BenchRow } from './types';

function loadWorkflow(file: string): Workflow {
  const parsed = parseWorkflow(readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error(`${file}: workflow invalid`);
  return parsed.workflow;
}

function withParams(w: Workflow, changes: Record<string, Record<string, unknown>>): Workflow {
  const copy = structuredClone(w);
  for (const [id, params] of Object.entries(changes)) Object.assign(copy.nodes.find((n) => n.id === id)!.params, params);
  return copy;
}

let peakRss = 0;
function samplePeak(): () => void {
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  return () => clearInterval(timer);
}

async function timedRun(w: Workflow, models: ModelRuntime, cache: NodeOutputCache) {
  models.sessionMs = 0;
  const started = performance.now();
  await executeWorkflow(w, {
    registry,
    models,
    cache,
    signal: new AbortController().signal,
    outputDir: mkdtempSync(path.join(os.tmpdir(), 'bench-')),
    inputRoots: [os.tmpdir()],
  });
  return { wallMs: performance.now() - started, sessionMs: models.sessionMs };
}

export async function benchEngine(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const stop = samplePeak();
  const models = new ModelRuntime(MODELS_DIR);
  const base = loadWorkflow(DEFAULT_WORKFLOW);
  // Warm-up: loads sessions and verifies hashes, which a long-running server does once.
  await timedRun(base, models, new NodeOutputCache(1 << 30));

  const cache = new NodeOutputCache(1 << 30);
  const first = await timedRun(base, models, cache);
  rows.push({ area: 'engine', name: 'default workflow wall time (warm)', value: first.wallMs / 1000, unit: 's', target: '<= 10', ok: first.wallMs <= 10_000 });
  // the same pipeline without refine, beside it in the same run: what refine costs on this machine today
  const fast = await timedRun(loadWorkflow(path.join(WORKFLOWS_DIR, 'text-to-video-fast.json')), models, new NodeOutputCache(1 << 30));
  rows.push({ area: 'engine', name: 'fast workflow (text-to-video-fast.json, no refine) wall time (warm)', value: fast.wallMs / 1000, unit: 's' });
  rows.push({ area: 'engine', name: 'default / fast workflow wall time', value: first.wallMs / fast.wallMs, unit: 'ratio' });
  rows.push({ area: 'engine', name: 'wall time / raw ONNX Runtime session time', value: first.wallMs / first.sessionMs, unit: 'ratio', target: '<= 1.05', ok: first.wallMs / first.sessionMs <= 1.05 });
  const rerun = await timedRun(withParams(base, { export: { format: 'mp4', quality: 60 } }), models, cache);
  rows.push({ area: 'engine', name: 're-run after changing only export params / first run', value: rerun.wallMs / first.wallMs, unit: 'ratio', target: '<= 0.05', ok: rerun.wallMs / first.wallMs <= 0.05 });

  for (const [multiplier, label] of [[3, 22], [7, 50], [14, 99]] as const) {
    const r = await timedRun(withParams(base, { interpolate: { multiplier }, keyframes: { seed: 100 + multiplier } }), models, new NodeOutputCache(1 << 30));
    rows.push({ area: 'engine', name: `default workflow, ${label} frames at 128x128`, value: r.wallMs / 1000, unit: 's' });
  }
  for (const scale of [2, 4, 8] as const) {
    const r = await timedRun(withParams(base, { upscale: { scale }, keyframes: { seed: 200 + scale } }), models, new NodeOutputCache(1 << 30));
    rows.push({ area: 'engine', name: `default workflow, 29 frames at ${64 * scale}x${64 * scale}`, value: r.wallMs / 1000, unit: 's' });
  }
  stop();
  rows.push({ area: 'engine', name: 'peak resident memory (engine runs above)', value: peakRss / 1024 / 1024, unit: 'MB' });
  await models.release();

  // First preview over the real server and WebSocket, measured on the client's clock.
  const studio = await startTestStudio();
  try {
    const follower = await follow(studio.url);
    const res = await fetch(`${studio.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ workflow: base, seed: 5 }) });
    const job = (await res.json()) as { id: string };
    let firstStepAt = 0;
    follower.socket.on('message', (data, isBinary) => {
      if (!isBinary && !firstStepAt) {
        const e = JSON.parse(String(data)) as { type: string; nodeId?: string; done?: number };
        if (e.type === 'node.progress' && e.nodeId === 'keyframes' && e.done === 1) firstStepAt = Date.now();
      }
    });
    await follower.waitFor((e) => (e.type === 'job.finished' || e.type === 'job.error') && e.jobId === job.id, 300_000);
    const firstPreview = follower.previews.find((p) => p.header.jobId === job.id && p.header.nodeId === 'keyframes');
    const latency = firstPreview && firstStepAt ? firstPreview.receivedAt - firstStepAt : NaN;
    rows.push({ area: 'engine', name: 'first preview received after the first diffusion step', value: latency, unit: 'ms', target: '<= 300', ok: latency <= 300 });
    follower.close();
  } finally {
    await studio.close();
  }
  return rows;
}
