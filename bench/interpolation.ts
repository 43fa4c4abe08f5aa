/**
 * Interpolation numbers: the pack's learned interpolator against ffmpeg's minterpolate
 * (and a plain blend, the floor) on the same tiny-world clips. Each clip is rendered at
 * 29 frames; its keyframes (every 4th) go in, and the 21 frames in between, which the
 * renderer knows exactly, are the ground truth for PSNR. Time is wall time per clip.
 */
import path from 'node:path';
import { interpolateFrames, interpolateParams, type InterpolationMethod } from '../nodes/interpolate';
import type { FrameSet } from '../nodes/core/values';
import { CLIP_FRAMES, renderClip, WORLD_RESOLUTION } from '../models/tiny-world/world/render';
import type { ClipAttributes } from '../models/tiny-world/world/vocabulary';
import { ModelRuntime } from '../server/runtime/models';
import { makeContext, psnr } from '../tests/video/helpers';
import type { BenchRow } from './types';

const MULTIPLIER = 4;

/** One clip per motion, varied shapes and colours: the in-betweens differ in kind per motion. */
const CLIPS: ClipAttributes[] = [
  { colour: 'red', background: 'navy', shape: 'circle', size: 'medium', motion: 'right' },
  { colour: 'yellow', background: 'black', shape: 'star', size: 'big', motion: 'left' },
  { colour: 'green', background: 'white', shape: 'square', size: 'small', motion: 'up' },
  { colour: 'blue', background: 'sand', shape: 'triangle', size: 'medium', motion: 'down' },
  { colour: 'pink', background: 'gray', shape: 'heart', size: 'medium', motion: 'growing' },
  { colour: 'cyan', background: 'navy', shape: 'diamond', size: 'big', motion: 'shrinking' },
  { colour: 'orange', background: 'black', shape: 'circle', size: 'small', motion: 'bouncing' },
  { colour: 'purple', background: 'white', shape: 'square', size: 'medium', motion: 'still' },
];

export interface GroundTruthClip {
  name: string;
  keyframes: FrameSet;
  /** All CLIP_FRAMES frames; index k * MULTIPLIER is keyframe k. */
  full: Uint8Array[];
}

export function groundTruthClips(size = WORLD_RESOLUTION): GroundTruthClip[] {
  const frameBytes = size * size * 3;
  return CLIPS.map((attributes, i) => {
    const pixels = renderClip(attributes, 1000 + i, { width: size, height: size });
    const full = Array.from({ length: CLIP_FRAMES }, (_, f) => pixels.slice(f * frameBytes, (f + 1) * frameBytes));
    const keyframes = full.filter((_, f) => f % MULTIPLIER === 0);
    return { name: `${attributes.shape} ${attributes.motion}`, keyframes: { width: size, height: size, fps: 2, frames: keyframes }, full };
  });
}

export interface MethodResult {
  method: InterpolationMethod;
  msPerClip: number;
  /** Mean PSNR over every in-between frame of every clip (keyframes excluded: they are copied). */
  psnr: number;
  /**
   * Mean per-frame PSNR over only the pixels that change between the two keyframes
   * around a frame or differ from them in the truth: where interpolation has work to do
   * (the whole-frame figure is mostly static background every method gets right).
   * Frames of still clips have no such pixels and are left out.
   */
  movingPsnr: number;
  /** Mean PSNR per clip, by clip name. */
  perClip: Record<string, number>;
}

export async function measureMethod(
  method: InterpolationMethod,
  clips: GroundTruthClip[],
  models: ModelRuntime,
  pack: string,
): Promise<MethodResult> {
  const params = interpolateParams.parse({ method, multiplier: MULTIPLIER, pack });
  // One warm-up run so session creation and ffmpeg's first start are not counted.
  await interpolateFrames(makeContext({ models }), clips[0]!.keyframes, params);
  let ms = 0;
  let sum = 0;
  let count = 0;
  let movingSum = 0;
  let movingFrames = 0;
  const perClip: Record<string, number> = {};
  for (const clip of clips) {
    const started = performance.now();
    const out = await interpolateFrames(makeContext({ models }), clip.keyframes, params);
    ms += performance.now() - started;
    if (out.frames.length !== clip.full.length) throw new Error(`${method}: ${out.frames.length} frames, expected ${clip.full.length}`);
    let clipSum = 0;
    let clipCount = 0;
    out.frames.forEach((frame, f) => {
      if (f % MULTIPLIER === 0) return;
      // A perfect frame has infinite PSNR; cap at 60 dB so one exact frame cannot dominate the mean.
      const value = Math.min(60, psnr(frame, clip.full[f]!));
      clipSum += value;
      clipCount++;
      const before = clip.full[f - (f % MULTIPLIER)]!;
      const after = clip.full[f - (f % MULTIPLIER) + MULTIPLIER]!;
      const truth = clip.full[f]!;
      let movingError = 0;
      let movingCount = 0;
      for (let p = 0; p < truth.length; p += 3) {
        let moving = false;
        for (let c = 0; c < 3 && !moving; c++) moving = before[p + c] !== after[p + c] || truth[p + c] !== before[p + c];
        if (!moving) continue;
        for (let c = 0; c < 3; c++) {
          const d = frame[p + c]! - truth[p + c]!;
          movingError += d * d;
        }
        movingCount += 3;
      }
      if (movingCount > 0) {
        const mse = movingError / movingCount;
        movingSum += mse === 0 ? 60 : Math.min(60, 10 * Math.log10((255 * 255) / mse));
        movingFrames++;
      }
    });
    perClip[clip.name] = clipSum / clipCount;
    sum += clipSum;
    count += clipCount;
  }
  const movingPsnr = movingFrames > 0 ? movingSum / movingFrames : 60;
  return { method, msPerClip: ms / clips.length, psnr: sum / count, movingPsnr, perClip };
}

export interface InterpolationBenchOptions {
  modelsDir?: string;
  pack?: string;
}

export async function benchInterpolation(options: InterpolationBenchOptions = {}): Promise<BenchRow[]> {
  const modelsDir = options.modelsDir ?? path.join(import.meta.dirname, '..', 'models');
  const pack = options.pack ?? 'tiny-world';
  const models = new ModelRuntime(modelsDir);
  const clips = groundTruthClips();
  const rows: BenchRow[] = [];
  const results = new Map<InterpolationMethod, MethodResult>();
  try {
    const missing = models.missing(pack, 'interpolator');
    const methods: InterpolationMethod[] = missing ? ['motion', 'blend'] : ['learned', 'motion', 'blend'];
    if (missing) rows.push({ area: 'interpolation', name: `learned: not measured (${missing})`, value: NaN, unit: '' });
    for (const method of methods) {
      const result = await measureMethod(method, clips, models, pack);
      results.set(method, result);
      rows.push({ area: 'interpolation', name: `${method} ${MULTIPLIER}x: time per 8-keyframe clip`, value: result.msPerClip, unit: 'ms' });
      rows.push({ area: 'interpolation', name: `${method} ${MULTIPLIER}x: PSNR of in-betweens`, value: result.psnr, unit: 'dB' });
      rows.push({ area: 'interpolation', name: `${method} ${MULTIPLIER}x: PSNR where pixels move`, value: result.movingPsnr, unit: 'dB' });
    }
    const learned = results.get('learned');
    const motion = results.get('motion')!;
    const blend = results.get('blend')!;
    if (learned) {
      rows.push({ area: 'interpolation', name: 'learned - motion PSNR', value: learned.psnr - motion.psnr, unit: 'dB' });
      rows.push({ area: 'interpolation', name: 'learned - motion PSNR where pixels move', value: learned.movingPsnr - motion.movingPsnr, unit: 'dB' });
      rows.push({ area: 'interpolation', name: 'learned / motion time', value: learned.msPerClip / motion.msPerClip, unit: 'ratio' });
    }
    rows.push({ area: 'interpolation', name: 'motion - blend PSNR', value: motion.psnr - blend.psnr, unit: 'dB' });
    for (const clip of clips) {
      const parts = [...results.values()].map((r) => `${r.method} ${r.perClip[clip.name]!.toFixed(1)}`);
      rows.push({ area: 'interpolation', name: `PSNR ${clip.name}: ${parts.join(', ')}`, value: results.get(learned ? 'learned' : 'motion')!.perClip[clip.name]!, unit: 'dB' });
    }
  } finally {
    await models.release();
  }
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  for (const row of await benchInterpolation()) console.log(`${row.name.padEnd(70)} ${row.value.toFixed(2).padStart(9)} ${row.unit}`);
}
