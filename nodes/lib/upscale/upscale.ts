/**
 * Upscaling of RGB frames with the realesrgan pack (or sharp's lanczos3, non-learned).
 * Frames are cut into tiles with context so memory is bounded by the tile size, not the
 * frame size; tiles of the same shape from several frames share one session.run.
 */
import sharp from 'sharp';
import { z } from 'zod';
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { INPUT_NAME, OUTPUT_NAME } from '../../../models/realesrgan/pack';
import { packTile, planTiles, unpackTile, type Tile } from './tiles';

export const UPSCALE_MODELS = ['animevideov3', 'x4plus-anime', 'lanczos'] as const;
export type UpscaleModel = (typeof UPSCALE_MODELS)[number];

/** Context each model needs around a tile for seams to vanish (receptive-field radius, input px). */
const DEFAULT_OVERLAP: Record<Exclude<UpscaleModel, 'lanczos'>, number> = {
  // 18 3x3 convolutions at input resolution (+ <1 px for the bicubic of x2/x3): exact.
  animevideov3: 20,
  // ~93 px in theory; the weights fall off long before: on the test frames, tiled vs
  // untiled differ by MAD < 0.02 levels, at most 4 levels at a seam (PSNR > 65 dB).
  'x4plus-anime': 32,
};

export const UpscaleParamsSchema = z.object({
  model: z.enum(UPSCALE_MODELS),
  scale: z.union([z.literal(2), z.literal(3), z.literal(4), z.literal(8)]),
  /** Largest tile core, in input pixels. Memory per tile grows with (tileSize + 2*overlap)^2. */
  tileSize: z.number().int().min(16).max(4096).default(128),
  /** Context around each tile in input pixels (default: per model, see DEFAULT_OVERLAP). */
  overlap: z.number().int().min(0).max(256).optional(),
  /** Mirrored padding at the frame's edges; 10 is realesrgan-ncnn-vulkan's prepadding. */
  border: z.number().int().min(0).max(64).default(10),
  /** Most tiles in one session.run (larger batches cost less CPU per frame). */
  batchSize: z.number().int().min(1).max(64).default(8),
  /**
   * Most input pixels (tile + context) in one session.run, which bounds its memory: the
   * widest activation is 64 channels x 4 bytes x this (x 4 bytes x 192 for x4plus-anime).
   */
  maxBatchPixels: z.number().int().min(1).default(4 * 168 * 168),
});
export type UpscaleParams = z.input<typeof UpscaleParamsSchema>;

export interface Frames {
  width: number;
  height: number;
  /** Interleaved RGB, 8 bits per channel, width * height * 3 bytes each. */
  frames: readonly Uint8Array[];
}

export type SessionProvider = (role: string) => Promise<InferenceSession>;

export interface UpscaleHooks {
  signal?: AbortSignal;
  /** Called with each finished output frame, in order (for previews). */
  onFrame?: (frame: Uint8Array, index: number, size: { width: number; height: number }) => void;
  /** Tiles run so far out of the total, across all passes. */
  onProgress?: (done: number, total: number) => void;
  /** Milliseconds spent inside session.run (ModelAccess.recordSessionTime). */
  onSessionTime?: (ms: number) => void;
}

interface Pass {
  kind: 'network';
  role: string;
  scale: number;
}
interface ResizePass {
  kind: 'lanczos';
  /** Output size as a fraction of the input: a ratio num/den. */
  num: number;
  den: number;
}
type Step = Pass | ResizePass;

const role = (m: 'animevideov3-x2' | 'animevideov3-x3' | 'animevideov3-x4' | 'x4plus-anime') => `upscaler-${m}`;

/** The passes a model/scale choice runs: x8 chains x4 then x2; x4plus-anime at 2/3 resizes its x4 down. */
export function upscalePlan(model: UpscaleModel, scale: 2 | 3 | 4 | 8): Step[] {
  if (model === 'lanczos') return [{ kind: 'lanczos', num: scale, den: 1 }];
  if (model === 'animevideov3') {
    if (scale === 8) return [{ kind: 'network', role: role('animevideov3-x4'), scale: 4 }, { kind: 'network', role: role('animevideov3-x2'), scale: 2 }];
    return [{ kind: 'network', role: role(`animevideov3-x${scale}`), scale }];
  }
  const x4: Pass = { kind: 'network', role: role('x4plus-anime'), scale: 4 };
  if (scale === 4) return [x4];
  if (scale === 8) return [x4, { kind: 'network', role: role('animevideov3-x2'), scale: 2 }];
  return [x4, { kind: 'lanczos', num: scale, den: 4 }];
}

/** Model roles of the realesrgan pack a choice needs (for the node's cache key). */
export function upscaleRoles(model: UpscaleModel, scale: 2 | 3 | 4 | 8): string[] {
  return upscalePlan(model, scale).flatMap((s) => (s.kind === 'network' ? [s.role] : []));
}

function checkFrames(input: Frames): void {
  const { width, height, frames } = input;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`bad frame size ${width}x${height}`);
  frames.forEach((f, i) => {
    if (f.length !== width * height * 3) throw new Error(`frame ${i} has ${f.length} bytes, ${width}x${height} RGB needs ${width * height * 3}`);
  });
}

async function lanczos(frame: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Promise<Uint8Array> {
  const { data } = await sharp(frame, { raw: { width, height, channels: 3 } })
    .resize(outWidth, outHeight, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

interface NetworkRun {
  session: InferenceSession;
  scale: number;
  tiles: Tile[];
  batchSize: number;
  maxBatchPixels: number;
  hooks: UpscaleHooks;
  tick: (tiles: number) => void;
}

/** Upscales `frames` (all width x height) through one network, batching same-shaped tiles. */
async function runNetwork(run: NetworkRun, frames: readonly Uint8Array[], width: number, height: number): Promise<Uint8Array[]> {
  const { session, scale, tiles, hooks } = run;
  const outWidth = width * scale;
  const outs = frames.map(() => new Uint8Array(outWidth * height * scale * 3));
  const items = frames.flatMap((frame, f) => tiles.map((tile) => ({ frame, f, tile })));
  const byShape = new Map<string, typeof items>();
  for (const item of items) {
    const key = `${item.tile.x.to - item.tile.x.from}x${item.tile.y.to - item.tile.y.from}`;
    const list = byShape.get(key);
    if (list) list.push(item);
    else byShape.set(key, [item]);
  }
  for (const group of byShape.values()) {
    const tw = group[0]!.tile.x.to - group[0]!.tile.x.from;
    const th = group[0]!.tile.y.to - group[0]!.tile.y.from;
    const batchSize = Math.max(1, Math.min(run.batchSize, Math.floor(run.maxBatchPixels / (tw * th))));
    for (let b = 0; b < group.length; b += batchSize) {
      hooks.signal?.throwIfAborted();
      const batch = group.slice(b, b + batchSize);
      const input = new Float32Array(batch.length * 3 * tw * th);
      batch.forEach((it, i) => packTile(it.frame, width, height, it.tile, input, i * 3 * tw * th));
      const started = performance.now();
      const result = await session.run({ [INPUT_NAME]: new Tensor('float32', input, [batch.length, 3, th, tw]) });
      hooks.onSessionTime?.(performance.now() - started);
      const out = result[OUTPUT_NAME];
      if (!out) throw new Error(`upscaler session has no output "${OUTPUT_NAME}" (outputs: ${session.outputNames.join(', ')})`);
      const want = [batch.length, 3, th * scale, tw * scale];
      if (out.dims.join() !== want.join()) throw new Error(`upscaler returned [${out.dims.join(',')}], expected [${want.join(',')}]`);
      const data = out.data as Float32Array;
      const per = 3 * th * scale * tw * scale;
      batch.forEach((it, i) => unpackTile(data, i * per, it.tile, scale, outs[it.f]!, outWidth));
      out.dispose();
      run.tick(batch.length);
    }
  }
  return outs;
}

/**
 * Upscales every frame by `params.scale` with the chosen model. `sessions` maps a pack
 * role (e.g. "upscaler-animevideov3-x4") to an InferenceSession; the caller owns caching.
 */
export async function upscaleFrames(input: Frames, params: UpscaleParams, sessions: SessionProvider, hooks: UpscaleHooks = {}): Promise<Frames & { frames: Uint8Array[] }> {
  const p = UpscaleParamsSchema.parse(params);
  checkFrames(input);
  const steps = upscalePlan(p.model, p.scale);
  const overlap = p.overlap ?? (p.model === 'lanczos' ? 0 : DEFAULT_OVERLAP[p.model]);

  // Sizes after each step, and the tile plan of each network step.
  let w = input.width;
  let h = input.height;
  const plans = steps.map((step) => {
    const inW = w;
    const inH = h;
    if (step.kind === 'network') {
      w *= step.scale;
      h *= step.scale;
      return { step, inW, inH, tiles: planTiles(inW, inH, p.tileSize, overlap, p.border) };
    }
    w = Math.round((w * step.num) / step.den);
    h = Math.round((h * step.num) / step.den);
    return { step, inW, inH, tiles: [] as Tile[] };
  });
  const out = { width: w, height: h };

  // Frames per group: enough to fill a batch when a frame is a single tile.
  const first = plans[0]!.tiles;
  const firstPixels = first.length > 0 ? (first[0]!.x.to - first[0]!.x.from) * (first[0]!.y.to - first[0]!.y.from) : 1;
  const perRun = Math.max(1, Math.min(p.batchSize, Math.floor(p.maxBatchPixels / firstPixels)));
  const groupSize = Math.max(1, Math.floor(perRun / Math.max(1, first.length)));
  const total = plans.reduce((s, pl) => s + pl.tiles.length, 0) * input.frames.length;
  let done = 0;
  const tick = (tiles: number) => {
    done += tiles;
    hooks.onProgress?.(done, total);
  };
  const sessionsByRole = new Map<string, InferenceSession>();
  for (const pl of plans) if (pl.step.kind === 'network') sessionsByRole.set(pl.step.role, await sessions(pl.step.role));

  const results: Uint8Array[] = [];
  for (let g = 0; g < input.frames.length; g += groupSize) {
    let frames: readonly Uint8Array[] = input.frames.slice(g, g + groupSize);
    for (const pl of plans) {
      hooks.signal?.throwIfAborted();
      if (pl.step.kind === 'network') {
        const run: NetworkRun = { session: sessionsByRole.get(pl.step.role)!, scale: pl.step.scale, tiles: pl.tiles, batchSize: p.batchSize, maxBatchPixels: p.maxBatchPixels, hooks, tick };
        frames = await runNetwork(run, frames, pl.inW, pl.inH);
      } else {
        const ow = Math.round((pl.inW * pl.step.num) / pl.step.den);
        const oh = Math.round((pl.inH * pl.step.num) / pl.step.den);
        const resized: Uint8Array[] = [];
        for (const f of frames) {
          hooks.signal?.throwIfAborted();
          resized.push(await lanczos(f, pl.inW, pl.inH, ow, oh));
        }
        frames = resized;
      }
    }
    for (const f of frames) {
      hooks.onFrame?.(f, results.length, out);
      results.push(f);
    }
  }
  return { ...out, frames: results };
}
