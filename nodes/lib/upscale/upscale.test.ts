import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { compareFrames, syntheticFrame } from '../../../models/realesrgan/test-frames';
import { packSessions, planTiles, upscaleFrames, upscaleRoles } from '.';
import { planSpans, reflectIndex } from './tiles';

const sessions = packSessions();

/** Largest |difference| within `band` output pixels of the tile seams, and elsewhere. */
function seamError(a: Uint8Array, b: Uint8Array, width: number, seamsX: number[], seamsY: number[], band: number) {
  let near = 0;
  let far = 0;
  for (let i = 0; i < a.length; i++) {
    const p = Math.floor(i / 3);
    const x = p % width;
    const y = Math.floor(p / width);
    const d = Math.abs(a[i]! - b[i]!);
    const isNear = seamsX.some((s) => Math.abs(x - s) < band) || seamsY.some((s) => Math.abs(y - s) < band);
    if (isNear) near = Math.max(near, d);
    else far = Math.max(far, d);
  }
  return { near, far };
}

describe('tile geometry', () => {
  it('covers every pixel once, with context clipped to the mirrored border', () => {
    const spans = planSpans(100, 32, 20, 10);
    expect(spans.map((s) => [s.start, s.end])).toEqual([
      [0, 25],
      [25, 50],
      [50, 75],
      [75, 100],
    ]);
    expect(spans[0]!.from).toBe(-10);
    expect(spans[1]!.from).toBe(5);
    expect(spans[3]!.to).toBe(110);
    expect(planTiles(64, 64, 64, 20, 10)).toHaveLength(1);
  });

  it('mirrors without repeating the edge pixel, as ncnn prepadding does', () => {
    expect([-3, -2, -1, 0, 4, 5, 6].map((i) => reflectIndex(i, 5))).toEqual([3, 2, 1, 0, 4, 3, 2]);
    expect(reflectIndex(-7, 1)).toBe(0);
  });
});

describe('upscaleFrames', () => {
  const width = 72;
  const height = 56;
  const frames = [syntheticFrame('shapes', width, height, 3), syntheticFrame('noisy', width, height, 4)];

  it('animevideov3: tiled output equals untiled output (no seams)', async () => {
    const whole = await upscaleFrames({ width, height, frames }, { model: 'animevideov3', scale: 2, tileSize: 512 }, sessions);
    const tiled = await upscaleFrames({ width, height, frames }, { model: 'animevideov3', scale: 2, tileSize: 24 }, sessions);
    const seamsX = planSpans(width, 24, 0, 0).slice(1).map((s) => s.start * 2);
    const seamsY = planSpans(height, 24, 0, 0).slice(1).map((s) => s.start * 2);
    expect(seamsX.length).toBeGreaterThan(1);
    for (let f = 0; f < frames.length; f++) {
      const e = seamError(tiled.frames[f]!, whole.frames[f]!, whole.width, seamsX, seamsY, 4);
      // Same inputs reach every output pixel; only float summation order may flip a rounding.
      expect(e.near).toBeLessThanOrEqual(1);
      expect(compareFrames(tiled.frames[f]!, whole.frames[f]!).psnr).toBeGreaterThan(60);
    }
    // Without context the seams are plainly visible: the check above can fail.
    const bare = await upscaleFrames({ width, height, frames }, { model: 'animevideov3', scale: 2, tileSize: 24, overlap: 0 }, sessions);
    expect(seamError(bare.frames[0]!, whole.frames[0]!, whole.width, seamsX, seamsY, 4).near).toBeGreaterThan(10);
  }, 120_000);

  it('x4plus-anime: seams from its default 32 px overlap stay tiny', async () => {
    const one = [frames[0]!];
    const whole = await upscaleFrames({ width, height, frames: one }, { model: 'x4plus-anime', scale: 4, tileSize: 512 }, sessions);
    const tiled = await upscaleFrames({ width, height, frames: one }, { model: 'x4plus-anime', scale: 4, tileSize: 40 }, sessions);
    const seamsX = planSpans(width, 40, 0, 0).slice(1).map((s) => s.start * 4);
    const seamsY = planSpans(height, 40, 0, 0).slice(1).map((s) => s.start * 4);
    const e = seamError(tiled.frames[0]!, whole.frames[0]!, whole.width, seamsX, seamsY, 8);
    expect(e.near).toBeLessThanOrEqual(2);
    expect(compareFrames(tiled.frames[0]!, whole.frames[0]!).psnr).toBeGreaterThan(55);
  }, 240_000);

  it('batching does not change the result, previews arrive per frame in order', async () => {
    const seen: number[] = [];
    const progress: number[] = [];
    const batched = await upscaleFrames(
      { width, height, frames },
      { model: 'animevideov3', scale: 3, batchSize: 4 },
      sessions,
      { onFrame: (f, i, size) => (seen.push(i), expect(f.length).toBe(size.width * size.height * 3)), onProgress: (d) => progress.push(d) },
    );
    const single = await upscaleFrames({ width, height, frames }, { model: 'animevideov3', scale: 3, batchSize: 1 }, sessions);
    expect(batched.width).toBe(width * 3);
    expect(batched.height).toBe(height * 3);
    expect(seen).toEqual([0, 1]);
    expect(progress.at(-1)).toBe(2);
    for (let f = 0; f < frames.length; f++) expect(compareFrames(batched.frames[f]!, single.frames[f]!).maxAbs).toBeLessThanOrEqual(1);
  }, 120_000);

  it('caps a batch at maxBatchPixels, and one session.run takes several frames', async () => {
    const batches: number[] = [];
    const counting = async (role: string) => {
      const real = await sessions(role);
      return new Proxy(real, {
        get: (target, key) =>
          key === 'run'
            ? (feeds: Record<string, { dims: readonly number[] }>) => (batches.push(feeds.image!.dims[0]!), target.run(feeds as never))
            : Reflect.get(target, key, target),
      });
    };
    const six = { width: 16, height: 16, frames: Array.from({ length: 6 }, (_, i) => syntheticFrame('shapes', 16, 16, i + 1)) };
    // A 16x16 frame with its 10 px mirrored border is one 36x36 tile: 1296 pixels.
    await upscaleFrames(six, { model: 'animevideov3', scale: 2, maxBatchPixels: 2600 }, counting);
    expect(batches).toEqual([2, 2, 2]);
    batches.length = 0;
    await upscaleFrames(six, { model: 'animevideov3', scale: 2 }, counting);
    expect(batches).toEqual([6]);
  }, 60_000);

  it('x8 chains the x4 and x2 networks', async () => {
    const small = { width: 20, height: 16, frames: [syntheticFrame('stripes', 20, 16, 5)] };
    expect(upscaleRoles('animevideov3', 8)).toEqual(['upscaler-animevideov3-x4', 'upscaler-animevideov3-x2']);
    const x8 = await upscaleFrames(small, { model: 'animevideov3', scale: 8 }, sessions);
    const x4 = await upscaleFrames(small, { model: 'animevideov3', scale: 4 }, sessions);
    const x4x2 = await upscaleFrames(x4, { model: 'animevideov3', scale: 2 }, sessions);
    expect([x8.width, x8.height]).toEqual([160, 128]);
    expect(compareFrames(x8.frames[0]!, x4x2.frames[0]!).maxAbs).toBe(0);
  }, 120_000);

  it('lanczos is sharp lanczos3 and needs no session', async () => {
    const f = syntheticFrame('shapes', 30, 20, 6);
    const noSessions = () => Promise.reject(new Error('lanczos must not ask for a session'));
    const out = await upscaleFrames({ width: 30, height: 20, frames: [f] }, { model: 'lanczos', scale: 3 }, noSessions);
    const ref = await sharp(f, { raw: { width: 30, height: 20, channels: 3 } }).resize(90, 60, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
    expect(out.frames[0]!.length).toBe(90 * 60 * 3);
    expect(compareFrames(out.frames[0]!, new Uint8Array(ref)).maxAbs).toBe(0);
  });

  it('stops between frames when the signal aborts', async () => {
    const controller = new AbortController();
    const many = { width: 16, height: 16, frames: Array.from({ length: 6 }, (_, i) => syntheticFrame('shapes', 16, 16, i + 1)) };
    const seen: number[] = [];
    const run = upscaleFrames(many, { model: 'animevideov3', scale: 2, batchSize: 1 }, sessions, {
      signal: controller.signal,
      onFrame: (_f, i) => {
        seen.push(i);
        if (i === 1) controller.abort();
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(seen).toEqual([0, 1]);
  }, 60_000);

  it('rejects frames of the wrong size', async () => {
    await expect(upscaleFrames({ width: 4, height: 4, frames: [new Uint8Array(10)] }, { model: 'lanczos', scale: 2 }, sessions)).rejects.toThrow(/frame 0 has 10 bytes/);
  });
});
