/**
 * Interpolate: multiplies the frame rate by putting (multiplier - 1) new frames between
 * every pair. n frames in, multiplier * (n - 1) + 1 out, the originals kept exactly at
 * every multiplier-th position, fps * multiplier. Three methods:
 *   - learned: the pack's interpolator network (Make-A-Video's frame interpolation
 *     stage), the in-betweens of a few pairs per batch;
 *   - motion: ffmpeg's minterpolate (block motion estimation + compensation), the
 *     classical baseline;
 *   - blend: a cross-fade, the floor any method must beat.
 */
import { z } from 'zod';
import { defineNode, type ExecContext } from './core/definition';
import type { FrameSet } from './core/values';
import { assertFrameSet, framesToTensor, tensorToFrames } from './lib/frames';
import { frameSplitter, rawInputArgs, runFfmpeg } from './lib/ffmpeg';
import { packParam } from './lib/pack';

export const INTERPOLATION_METHODS = ['learned', 'motion', 'blend'] as const;
export type InterpolationMethod = (typeof INTERPOLATION_METHODS)[number];

/** Largest output the node will build in memory, in frames. */
export const MAX_OUTPUT_FRAMES = 10_000;

export const interpolateParams = z.object({
  method: z
    .enum(INTERPOLATION_METHODS)
    .default('learned')
    .describe('learned: the pack’s interpolator network; motion: ffmpeg minterpolate; blend: cross-fade')
    .meta({ widget: 'select', label: 'Method' }),
  multiplier: z
    .number()
    .int()
    .min(2)
    .max(32)
    .default(4)
    .describe('Frame-rate multiplier: (multiplier - 1) new frames between each pair')
    .meta({ widget: 'number', label: 'Multiplier', step: 1 }),
  pack: packParam,
});
export type InterpolateParams = z.infer<typeof interpolateParams>;

export function interpolatedCount(frames: number, multiplier: number): number {
  return frames <= 0 ? 0 : multiplier * (frames - 1) + 1;
}

/** Sends finished frames to the preview a few at a time, not one message per frame. */
function previewer(ctx: ExecContext, set: Pick<FrameSet, 'width' | 'height'>, fps: number, total: number) {
  const batch = Math.max(1, Math.min(8, Math.ceil(total / 16)));
  let pending: Uint8Array[] = [];
  let first = 0;
  const flush = () => {
    if (pending.length === 0) return;
    ctx.preview({ width: set.width, height: set.height, fps, frames: pending }, { kind: 'frame', firstFrame: first, count: total });
    first += pending.length;
    pending = [];
  };
  return {
    push(frames: Uint8Array[]) {
      for (const f of frames) {
        pending.push(f);
        if (pending.length >= batch) flush();
      }
    },
    flush,
  };
}

export function blendFrames(a: Uint8Array, b: Uint8Array, t: number): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.round(a[i]! + (b[i]! - a[i]!) * t);
  return out;
}

/**
 * Runs over the pairs `group` at a time, calling `between` for their in-betweens (one
 * array per pair); keeps the originals exact. Cancellation is checked before each group.
 */
async function perPair(
  ctx: ExecContext,
  set: FrameSet,
  multiplier: number,
  between: (pairs: [Uint8Array, Uint8Array][], ts: number[]) => Promise<Uint8Array[][]>,
  group = 1,
): Promise<Uint8Array[]> {
  const total = interpolatedCount(set.frames.length, multiplier);
  const preview = previewer(ctx, set, set.fps * multiplier, total);
  const ts = Array.from({ length: multiplier - 1 }, (_, k) => (k + 1) / multiplier);
  const out: Uint8Array[] = [set.frames[0]!];
  preview.push([set.frames[0]!]);
  const pairCount = set.frames.length - 1;
  for (let first = 0; first < pairCount; first += group) {
    ctx.throwIfAborted();
    const indices = Array.from({ length: Math.min(group, pairCount - first) }, (_, k) => first + k);
    const made = await between(
      indices.map((i) => [set.frames[i]!, set.frames[i + 1]!]),
      ts,
    );
    indices.forEach((i, k) => {
      const finished = [...made[k]!, set.frames[i + 1]!];
      out.push(...finished);
      preview.push(finished);
    });
    ctx.progress(out.length, total, `pair ${indices.at(-1)! + 1} of ${pairCount}`);
  }
  preview.flush();
  return out;
}

/** Edge-replicates a frame to (pw, ph), the next multiples of 8 the interpolator needs. */
function padFrame(frame: Uint8Array, w: number, h: number, pw: number, ph: number): Uint8Array {
  if (w === pw && h === ph) return frame;
  const out = new Uint8Array(pw * ph * 3);
  for (let y = 0; y < ph; y++) {
    const sy = Math.min(y, h - 1);
    out.set(frame.subarray(sy * w * 3, (sy + 1) * w * 3), y * pw * 3);
    for (let x = w; x < pw; x++) out.copyWithin((y * pw + x) * 3, (y * pw + w - 1) * 3, (y * pw + w) * 3);
  }
  return out;
}

function cropFrame(frame: Uint8Array, pw: number, w: number, h: number): Uint8Array {
  if (pw === w && frame.length === w * h * 3) return frame;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) out.set(frame.subarray(y * pw * 3, (y * pw + w) * 3), y * w * 3);
  return out;
}

/** In-betweens per ONNX Runtime call: batching a few pairs costs less per frame than one pair at a time. */
const LEARNED_BATCH = 8;

async function learned(ctx: ExecContext, set: FrameSet, params: InterpolateParams): Promise<Uint8Array[]> {
  const { width: w, height: h } = set;
  const pw = Math.ceil(w / 8) * 8;
  const ph = Math.ceil(h / 8) * 8;
  const plane = 3 * pw * ph;
  const group = Math.max(1, Math.floor(LEARNED_BATCH / (params.multiplier - 1)));
  return perPair(
    ctx,
    set,
    params.multiplier,
    async (pairs, ts) => {
      const batch = pairs.length * ts.length;
      const frameA = new Float32Array(batch * plane);
      const frameB = new Float32Array(batch * plane);
      const times = new Float32Array(batch);
      pairs.forEach(([a, b], p) => {
        const ta = framesToTensor([padFrame(a, w, h, pw, ph)], pw, ph);
        const tb = framesToTensor([padFrame(b, w, h, pw, ph)], pw, ph);
        ts.forEach((t, k) => {
          const n = p * ts.length + k;
          frameA.set(ta, n * plane);
          frameB.set(tb, n * plane);
          times[n] = t;
        });
      });
      const out = await ctx.models.run(params.pack, 'interpolator', {
        frame_a: { data: frameA, dims: [batch, 3, ph, pw] },
        frame_b: { data: frameB, dims: [batch, 3, ph, pw] },
        t: { data: times, dims: [batch] },
      });
      const frame = out.frame;
      if (!frame || !(frame.data instanceof Float32Array) || frame.data.length !== batch * plane) {
        throw new Error(`the interpolator of "${params.pack}" returned no float32 "frame" of shape [${batch}, 3, ${ph}, ${pw}]`);
      }
      const frames = tensorToFrames(frame.data, batch, pw, ph).map((f) => cropFrame(f, pw, w, h));
      return pairs.map((_, p) => frames.slice(p * ts.length, (p + 1) * ts.length));
    },
    group,
  );
}

async function blend(ctx: ExecContext, set: FrameSet, params: InterpolateParams): Promise<Uint8Array[]> {
  return perPair(ctx, set, params.multiplier, async (pairs, ts) => pairs.map(([a, b]) => ts.map((t) => blendFrames(a, b, t))));
}

/**
 * minterpolate over the whole clip in one ffmpeg run, streamed back frame by frame. The
 * input is declared at 1 fps so output frame k sits exactly at t = k / multiplier.
 * Scene-change detection is off: it would replace in-betweens with plain blends.
 */
async function motion(ctx: ExecContext, set: FrameSet, params: InterpolateParams): Promise<Uint8Array[]> {
  const { width: w, height: h } = set;
  const m = params.multiplier;
  const total = interpolatedCount(set.frames.length, m);
  const block = Math.min(w, h) < 128 ? 8 : 16;
  const preview = previewer(ctx, set, set.fps * m, total);
  const made: Uint8Array[] = [];
  const push = frameSplitter(w * h * 3, (frame) => {
    if (made.length >= total) return;
    // The originals pass through untouched, whatever minterpolate did at their timestamps.
    const index = made.length;
    const exact = index % m === 0 ? set.frames[index / m]! : frame;
    made.push(exact);
    preview.push([exact]);
    if (made.length % 4 === 0 || made.length === total) ctx.progress(made.length, total, 'motion interpolation');
  });
  async function* feed() {
    for (const frame of set.frames) {
      ctx.throwIfAborted();
      yield frame;
    }
  }
  await runFfmpeg(
    [
      ...rawInputArgs(w, h, 1),
      '-vf', `minterpolate=fps=${m}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:me=epzs:vsbmc=1:mb_size=${block}:scd=none`,
      '-vsync', 'passthrough',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ],
    { input: feed(), onStdout: push, signal: ctx.signal, what: 'motion interpolation (minterpolate)' },
  );
  // minterpolate may stop short of the last timestamp; the clip's last frame closes it.
  while (made.length < total) {
    const index = made.length;
    const frame = index % m === 0 ? set.frames[index / m]! : set.frames[set.frames.length - 1]!;
    made.push(frame);
    preview.push([frame]);
  }
  preview.flush();
  ctx.progress(total, total, 'motion interpolation');
  return made;
}

export async function interpolateFrames(ctx: ExecContext, input: FrameSet, params: InterpolateParams): Promise<FrameSet> {
  const set = assertFrameSet(input, 'interpolate');
  const total = interpolatedCount(set.frames.length, params.multiplier);
  if (total > MAX_OUTPUT_FRAMES) {
    throw new Error(`interpolate: ${set.frames.length} frames x ${params.multiplier} would make ${total} frames (at most ${MAX_OUTPUT_FRAMES})`);
  }
  const fps = set.fps * params.multiplier;
  if (set.frames.length === 1) return { ...set, fps, frames: [set.frames[0]!] };
  const run = params.method === 'learned' ? learned : params.method === 'motion' ? motion : blend;
  const frames = await run(ctx, set, params);
  return { width: set.width, height: set.height, fps, frames };
}

export const interpolateNode = defineNode({
  type: 'interpolate',
  version: 1,
  title: 'Interpolate',
  category: 'video',
  description: 'Raises the frame rate: (multiplier - 1) new frames between each pair, by the pack’s interpolator, ffmpeg motion interpolation or a blend.',
  inputs: { frames: { kind: 'frames', label: 'frames' } },
  outputs: { frames: { kind: 'frames', label: 'frames' } },
  params: interpolateParams,
  models: (p) => (p.method === 'learned' ? [{ pack: p.pack, role: 'interpolator' }] : []),
  async execute(ctx, inputs, params) {
    return { frames: await interpolateFrames(ctx, inputs.frames, params) };
  },
});
