import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interpolateFrames, interpolateNode, interpolateParams, interpolatedCount } from '../../nodes/interpolate';
import { ModelRuntime } from '../../server/runtime/models';
import { MODELS_DIR } from '../../server/paths';
import { groundTruthClips } from '../../bench/interpolation';
import { makeContext, psnr, renderSquareAt, slidingSquare, tempDir } from './helpers';
import { writeBlendInterpolatorPack } from './tiny-onnx';

const modelsDir = tempDir('studio-models-');
writeBlendInterpolatorPack(modelsDir, 'test-interp');
const runtime = new ModelRuntime(modelsDir, 'cpu', 1);
afterAll(() => runtime.release());

const params = (method: 'learned' | 'motion' | 'blend', multiplier: number) =>
  interpolateParams.parse({ method, multiplier, pack: 'test-interp' });

describe('interpolate', () => {
  for (const method of ['learned', 'motion', 'blend'] as const) {
    for (const [n, m] of [
      [5, 2],
      [4, 3],
      [3, 4],
      [2, 7],
    ] as const) {
      it(`${method}: ${n} frames x${m} gives ${m * (n - 1) + 1} frames at fps x${m}, originals kept`, async () => {
        const ctx = makeContext({ models: runtime });
        const clip = slidingSquare(n, 40, 24, 6);
        const out = await interpolateFrames(ctx, clip, params(method, m));
        expect(out.frames.length).toBe(interpolatedCount(n, m));
        expect(out.frames.length).toBe(m * (n - 1) + 1);
        expect(out.fps).toBe(6 * m);
        expect([out.width, out.height]).toEqual([40, 24]);
        for (const f of out.frames) expect(f.length).toBe(40 * 24 * 3);
        for (let i = 0; i < n; i++) expect(Buffer.from(out.frames[i * m]!).equals(Buffer.from(clip.frames[i]!))).toBe(true);
        // The in-betweens are new frames, not copies of either neighbour.
        expect(Buffer.from(out.frames[1]!).equals(Buffer.from(clip.frames[0]!))).toBe(false);
        // Previews cover every output frame exactly once, in order.
        const previewed = ctx.previews.flatMap((p) => p.frames.frames);
        expect(previewed.length).toBe(out.frames.length);
        expect(ctx.previews.every((p) => p.info.kind === 'frame' && p.info.count === out.frames.length)).toBe(true);
        expect(ctx.progressCalls.at(-1)).toEqual({ done: out.frames.length, total: out.frames.length });
      });
    }
  }

  for (const [n, m] of [
    [3, 4],
    [6, 3],
    [9, 2],
  ] as const) {
    it(`learned runs the pack interpolator through ONNX Runtime (${n} frames x${m}: a blend model gives the blend, pairs batched in order)`, async () => {
      const ctx = makeContext({ models: runtime });
      // 36 x 20: not multiples of 8, so the node's padding and cropping are exercised too.
      const clip = slidingSquare(n, 36, 20);
      const before = runtime.sessionMs;
      const learned = await interpolateFrames(ctx, clip, params('learned', m));
      const blended = await interpolateFrames(makeContext({}), clip, params('blend', m));
      expect(runtime.sessionMs).toBeGreaterThan(before);
      expect(learned.frames.length).toBe(blended.frames.length);
      for (let i = 0; i < learned.frames.length; i++) {
        const a = learned.frames[i]!;
        const b = blended.frames[i]!;
        let worst = 0;
        for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - b[j]!));
        expect(worst, `frame ${i}`).toBeLessThanOrEqual(1);
      }
    });
  }

  it('learned with the trained tiny-world pack: 29 frames from 8 keyframes, in-betweens near the truth', async () => {
    const packModels = new ModelRuntime(MODELS_DIR, 'cpu', 2);
    try {
      const clip = groundTruthClips()[0]!;
      const out = await interpolateFrames(makeContext({ models: packModels }), clip.keyframes, interpolateParams.parse({ method: 'learned', multiplier: 4 }));
      expect(out.frames.length).toBe(29);
      expect(out.fps).toBe(8);
      for (let f = 1; f < 29; f++) if (f % 4 !== 0) expect(psnr(out.frames[f]!, clip.full[f]!), `frame ${f}`).toBeGreaterThan(15);
    } finally {
      await packModels.release();
    }
  });

  it('learned reports a missing pack clearly', async () => {
    const ctx = makeContext({ models: runtime });
    await expect(interpolateFrames(ctx, slidingSquare(2), interpolateParams.parse({ method: 'learned', multiplier: 2, pack: 'nope' }))).rejects.toThrow(
      /nope/,
    );
  });

  it('motion compensation beats a blend on a moving square', async () => {
    const clip = slidingSquare(5, 64, 64, 8, 4);
    const out = await interpolateFrames(makeContext({}), clip, params('motion', 2));
    const blend = await interpolateFrames(makeContext({}), clip, params('blend', 2));
    let motionScore = 0;
    let blendScore = 0;
    for (let i = 0; i < 4; i++) {
      const truth = renderSquareAt(8 + i * 4 + 2, 64, 64);
      motionScore += psnr(out.frames[2 * i + 1]!, truth);
      blendScore += psnr(blend.frames[2 * i + 1]!, truth);
    }
    expect(motionScore).toBeGreaterThan(blendScore);
  });

  it('declares the interpolator model only for the learned method', () => {
    expect(interpolateNode.models!(params('learned', 2))).toEqual([{ pack: 'test-interp', role: 'interpolator' }]);
    expect(interpolateNode.models!(params('motion', 2))).toEqual([]);
    expect(interpolateNode.models!(params('blend', 2))).toEqual([]);
    expect(interpolateParams.safeParse({ multiplier: 1 }).success).toBe(false);
    expect(interpolateParams.safeParse({ multiplier: 2.5 }).success).toBe(false);
  });

  it('a single frame stays one frame; fps still multiplies', async () => {
    const out = await interpolateFrames(makeContext({}), slidingSquare(1), params('blend', 4));
    expect(out.frames.length).toBe(1);
    expect(out.fps).toBe(32);
  });

  for (const method of ['learned', 'motion', 'blend'] as const) {
    it(`${method}: cancelling stops the node`, async () => {
      const ctx = makeContext({ models: runtime });
      ctx.abort();
      await expect(interpolateFrames(ctx, slidingSquare(6), params(method, 3))).rejects.toThrow(/cancel/);
    });
  }

  for (const method of ['learned', 'motion', 'blend'] as const) {
    it(`${method}: cancelling mid-run stops between frames, before the clip is done`, async () => {
      const ctx = makeContext({ models: runtime });
      const preview = ctx.preview;
      ctx.preview = (frames, info) => {
        preview(frames, info);
        ctx.abort();
      };
      const clip = slidingSquare(40, 64, 64);
      await expect(interpolateFrames(ctx, clip, params(method, 4))).rejects.toThrow(/cancel/);
      const previewed = ctx.previews.reduce((s, p) => s + p.frames.frames.length, 0);
      expect(previewed).toBeGreaterThan(0);
      expect(previewed).toBeLessThan(interpolatedCount(40, 4));
    });
  }
});

describe('a pack linked into the models folder', () => {
  it('is installed and runs like one copied there', async () => {
    const elsewhere = tempDir('studio-pack-elsewhere-');
    writeBlendInterpolatorPack(elsewhere, 'linked-interp');
    const linkedModels = tempDir('studio-linked-models-');
    symlinkSync(path.join(elsewhere, 'linked-interp'), path.join(linkedModels, 'linked-interp'));
    const linked = new ModelRuntime(linkedModels, 'cpu', 1);
    try {
      expect(linked.hasPack('linked-interp')).toBe(true);
      // A pack that is not there: the message names the folder looked in and the packs found.
      expect(linked.missing('other-pack', 'interpolator')).toBe(
        `model pack "other-pack" is not installed in ${linkedModels} (installed: linked-interp)`,
      );
      const clip = slidingSquare(3, 40, 24, 6);
      const ctx = makeContext({ models: linked });
      const out = await interpolateFrames(ctx, clip, interpolateParams.parse({ method: 'learned', multiplier: 2, pack: 'linked-interp' }));
      expect(out.frames.length).toBe(interpolatedCount(3, 2));
    } finally {
      await linked.release();
    }
  });
});
