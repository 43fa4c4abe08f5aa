/**
 * The shipped video-text scorer (role `video-text`, which the keyframes node uses to
 * rerank candidates) reads motion: for the renderer's own keyframes of held-out scenes,
 * the caption naming the clip's true motion must score above the same caption with each
 * other motion. The image CLIP cannot do this (one frame has no motion), so this is what
 * reranking adds.
 */
import { describe, expect, it } from 'vitest';
import { MODELS_DIR } from '../../../server/paths';
import { ModelRuntime } from '../../../server/runtime/models';
import { tokenize } from '../../../server/runtime/tokenizer';
import { framesToTensor, toVideoLayout } from '../../../nodes/lib/frames';
import { CLIP_FRAMES, renderClip } from '../world/render';
import { MOTIONS, MOTION_PHRASES, type ClipAttributes, type Motion } from '../world/vocabulary';
import { buildPrompts } from './prompts';

const PACK = 'tiny-world';
const models = new ModelRuntime(MODELS_DIR);
const manifest = models.manifest(PACK);
const { video, tokenizer } = manifest;
if (video === undefined || tokenizer === undefined) throw new Error('tiny-world has no video or tokenizer section');

function caption(attributes: ClipAttributes, motion: Motion): string {
  return `a ${attributes.colour} ${attributes.shape} ${MOTION_PHRASES[motion][0]!.join(' ')} on a ${attributes.background} background`;
}

/** The renderer's clip at the decoder's keyframe times, as the [3, F, H, W] tensor the scorer reads. */
function keyframes(attributes: ClipAttributes, seed: number): Float32Array {
  const { width, height, keyframes: F } = video!;
  const pixels = renderClip(attributes, seed, { width, height });
  const frameBytes = width * height * 3;
  const frames = Array.from({ length: F }, (_, k) => {
    const index = Math.round((k * (CLIP_FRAMES - 1)) / (F - 1));
    return pixels.subarray(index * frameBytes, (index + 1) * frameBytes);
  });
  const perFrame = framesToTensor(frames, width, height);
  const out = new Float32Array(perFrame.length);
  toVideoLayout(perFrame, F, 3, width * height, F, out);
  return out;
}

async function scores(clip: Float32Array, captions: string[]): Promise<Float32Array> {
  const { width, height, keyframes: F } = video!;
  const T = tokenizer!.maxTokens;
  const tokens = new BigInt64Array(captions.length * T);
  captions.forEach((text, n) => {
    const result = tokenize(text, tokenizer!);
    if (!result.ok) throw new Error(result.message);
    result.ids.forEach((id, i) => (tokens[n * T + i] = BigInt(id)));
  });
  const frames = new Float32Array(captions.length * clip.length);
  for (let n = 0; n < captions.length; n++) frames.set(clip, n * clip.length);
  const out = await models.run(PACK, 'video-text', {
    frames: { data: frames, dims: [captions.length, 3, F, height, width] },
    tokens: { data: tokens, dims: [captions.length, T] },
  });
  const score = out.score?.data;
  if (!(score instanceof Float32Array)) throw new Error('video-text returned no float32 "score"');
  return score;
}

describe('tiny-world pack: the video-text reranker reads motion', () => {
  it.skipIf(manifest.models['video-text'] === undefined)('ranks the true motion first for most held-out scenes', async () => {
    const scenes = buildPrompts(48, 5);
    let right = 0;
    for (const { attributes, seed } of scenes) {
      const result = await scores(keyframes(attributes, seed), MOTIONS.map((m) => caption(attributes, m)));
      const best = result.indexOf(Math.max(...result));
      if (MOTIONS[best] === attributes.motion) right++;
    }
    // chance is 1 in 8
    expect(right / scenes.length, `true motion first for ${right} of ${scenes.length} scenes`).toBeGreaterThanOrEqual(0.6);
  }, 120_000);
});
