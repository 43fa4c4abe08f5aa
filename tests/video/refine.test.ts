/**
 * The refine node on the shipped tiny-world pack (real ONNX Runtime, the pack's refiner at
 * 32x32 latents): what a user sees is that a small star the keyframes node draws as a blob
 * comes back with its points, still small, in the same place, colour and motion. Plus its errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { keyframesNode } from '../../nodes/keyframes';
import { encodePrompt } from '../../nodes/prompt';
import { refineNode } from '../../nodes/refine';
import { analyzeVideo } from '../../models/tiny-world/world/analyze';
import { VOCABULARY, MAX_TOKENS } from '../../models/tiny-world/world/vocabulary';
import { MODELS_DIR } from '../../server/paths';
import { ModelRuntime } from '../../server/runtime/models';
import { makeContext, tempDir } from './helpers';
import { writeSyntheticVideoPack } from './tiny-onnx';

const models = new ModelRuntime(MODELS_DIR, 'cpu', 2);
const syntheticDir = tempDir('studio-refine-models-');
writeSyntheticVideoPack(syntheticDir, 'synthetic-world', { vocabulary: VOCABULARY, maxTokens: MAX_TOKENS });
const synthetic = new ModelRuntime(syntheticDir, 'cpu', 1);
afterAll(() => {
  models.release();
  synthetic.release();
});

const PROMPT = 'a small yellow star on a navy background sliding up';

async function keyframesFor(prompt: string, seed: number) {
  const ctx = makeContext({ models, seed });
  const text = await encodePrompt(models, 'tiny-world', prompt);
  const embedding = await models.run('tiny-world', 'prior', { text_embedding: { data: text.embedding, dims: [1, 64] } });
  const params = keyframesNode.params.parse({ seed, steps: 20, guidance: 3 });
  const out = await keyframesNode.execute(
    ctx,
    { text, embedding: { pack: 'tiny-world', source: 'prior', embedding: embedding.image_embedding!.data as Float32Array }, init: undefined },
    params,
  );
  return { text, keyframes: out.frames };
}

describe('refine (tiny-world pack)', () => {
  it('a small star drawn as a blob comes back with its points, still small, in the same place, colour and motion', async () => {
    const { text, keyframes } = await keyframesFor(PROMPT, 3);
    const before = analyzeVideo(keyframes);
    expect(before.shape.name).not.toBe('star');

    const ctx = makeContext({ models, seed: 7 });
    const { frames } = await refineNode.execute(ctx, { frames: keyframes, text }, refineNode.params.parse({ seed: 7, output: 'refined size' }));
    expect(frames.frames.length).toBe(8);
    expect([frames.width, frames.height, frames.fps]).toEqual([128, 128, keyframes.fps]);
    const after = analyzeVideo(frames);
    expect(after.shape.name).toBe('star');
    // the decoder alone, run at 2x, drew small objects a size larger (session 14); the refiner keeps them small
    expect(after.size.name).toBe('small');
    expect(after.colour?.name).toBe(before.colour?.name);
    expect(after.background.name).toBe(before.background.name);
    expect(after.motion.name).toBe('up');
    expect(after.singleObject.pass).toBe(true);
    for (let f = 0; f < 8; f++) {
      const [a, b] = [before.frames[f]!, after.frames[f]!];
      expect(a.centroidX !== undefined && b.centroidX !== undefined).toBe(true);
      expect(Math.hypot(a.centroidX! - b.centroidX!, a.centroidY! - b.centroidY!)).toBeLessThan(0.05);
    }
    // Every step is previewed, at the refined size.
    expect(ctx.previews.length).toBe(4);
    expect(ctx.previews.every((p) => p.frames.width === 128 && p.frames.frames.length === 8)).toBe(true);
  }, 120_000);

  it('by default the frames come back at the size they came in at, the scene unchanged', async () => {
    const { text, keyframes } = await keyframesFor('a big red heart moving left on a sand background', 5);
    const ctx = makeContext({ models });
    const { frames } = await refineNode.execute(ctx, { frames: keyframes, text }, refineNode.params.parse({ steps: 2 }));
    expect([frames.width, frames.height, frames.frames.length]).toEqual([64, 64, 8]);
    expect(ctx.previews.at(-1)!.frames.width).toBe(64);
    const [before, after] = [analyzeVideo(keyframes), analyzeVideo(frames)];
    const scene = (a: typeof before) => [a.colour?.name, a.background.name, a.shape.name, a.motion.name, a.size.name];
    expect(scene(before)).toEqual(['red', 'sand', 'heart', expect.any(String), 'big']);
    expect(scene(after)).toEqual(scene(before));
  }, 120_000);

  it('refuses anything but the pack’s 8 keyframes, naming the input', async () => {
    const text = await encodePrompt(models, 'tiny-world', PROMPT);
    const frame = new Uint8Array(64 * 64 * 3);
    const five = { width: 64, height: 64, fps: 2, frames: Array.from({ length: 5 }, () => frame) };
    await expect(refineNode.execute(makeContext({ models }), { frames: five, text }, refineNode.params.parse({}))).rejects.toThrow(
      /input "frames": expected the 8 keyframes of pack "tiny-world".*got 5 frames/,
    );
  });

  it('refuses frames of another shape than the pack’s keyframes', async () => {
    const text = await encodePrompt(models, 'tiny-world', PROMPT);
    const wide = { width: 96, height: 64, fps: 2, frames: Array.from({ length: 8 }, () => new Uint8Array(96 * 64 * 3)) };
    await expect(refineNode.execute(makeContext({ models }), { frames: wide, text }, refineNode.params.parse({}))).rejects.toThrow(
      /input "frames": expected frames shaped like the pack's 64x64 keyframes .* got 96x64/,
    );
  });

  it('a pack whose decoder runs at one size only is refused before the run, naming the field', () => {
    const problems = refineNode.check!(refineNode.params.parse({ pack: 'synthetic-world' }), synthetic);
    expect(problems).toEqual([{ field: 'params.pack', message: expect.stringMatching(/"synthetic-world" cannot refine: its manifest has no video.refine/) }]);
    expect(refineNode.check!(refineNode.params.parse({}), models)).toEqual([]);
  });
});
