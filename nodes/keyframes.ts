/**
 * Keyframes: the spatiotemporal decoder (Make-A-Video's D^t), sampled with DDIM in the
 * pack's latent space and decoded to pixels. Masked conditioning makes the one decoder
 * generate from text, animate a still (first frame given), extend a clip (its last
 * frames given first) and make variations (a clip noised to `strength`, then denoised).
 * Every sampling step's estimate is decoded and previewed, so the user sees the frames
 * emerge. With `candidates` > 1 several samples are drawn side by side and the one the
 * pack's own encoders match best to the prompt is kept (reranking; previews show the first).
 * A pack's latent decoder may read the prompt too (its manifest lists a text_embedding input).
 */
import { z } from 'zod';
import { defineNode, type ExecContext } from './core/definition';
import type { FrameSet } from './core/values';
import { ddimTimesteps, noiseTo } from './lib/ddim';
import { framesToTensor, fromVideoLayout, resizeFrame, toVideoLayout } from './lib/frames';
import { decodeLatentFrames, encodeLatentFrames, firstFloatOutput, packParam, videoPack } from './lib/pack';
import { denoise, guidanceParam, repeat, seedParam, tokenRows } from './lib/sample';

type Pack = ReturnType<typeof videoPack>;

export const keyframesNode = defineNode({
  type: 'keyframes',
  version: 1,
  title: 'Keyframes',
  category: 'generate',
  description: 'Diffusion decoder: a few low-resolution keyframes from text and an image embedding; also animates, extends and varies.',
  inputs: {
    text: { kind: 'text-embedding', label: 'text' },
    embedding: { kind: 'image-embedding', label: 'image embedding', optional: true },
    init: { kind: 'frames', label: 'init frames', optional: true, description: 'Frames to animate, extend or vary' },
  },
  outputs: { frames: { kind: 'frames', label: 'keyframes' } },
  params: z.object({
    steps: z.number().int().min(1).max(200).default(20).describe('DDIM sampling steps').meta({ widget: 'slider', label: 'Steps' }),
    guidance: guidanceParam,
    seed: seedParam,
    mode: z
      .enum(['generate', 'animate', 'extend', 'vary'])
      .default('generate')
      .describe('generate: from text; animate: the first init frame(s) are given; extend: the last init frames are given and the clip continues; vary: the init clip is noised and denoised')
      .meta({ widget: 'select', label: 'Mode' }),
    given: z
      .number()
      .int()
      .min(1)
      .max(7)
      .default(1)
      .describe('How many init frames are given (animate: the first ones, extend: the last ones)')
      .meta({ widget: 'number', label: 'Given frames' }),
    strength: z
      .number()
      .min(0.05)
      .max(1)
      .default(0.6)
      .describe('vary: how much noise is added to the init clip (1 = all)')
      .meta({ widget: 'slider', label: 'Strength', step: 0.05 }),
    candidates: z
      .number()
      .int()
      .min(1)
      .max(8)
      .default(1)
      .describe('Sample this many keyframe sets side by side and keep the one the pack’s own encoders match best to the prompt (its image CLIP at the worst keyframe + its video-text model; needs both roles)')
      .meta({ widget: 'number', label: 'Candidates' }),
    decoderText: z
      .boolean()
      .default(true)
      .describe('Let the decoder read the prompt’s words (off: it sees only the image embedding, as in the paper, and a latent decoder that reads the prompt gets none)')
      .meta({ widget: 'checkbox', label: 'Decoder reads text' }),
    pack: packParam,
  }),
  models: (p) => [
    { pack: p.pack, role: 'decoder' },
    { pack: p.pack, role: 'latent-decoder' },
    ...(p.mode === 'generate' ? [] : [{ pack: p.pack, role: 'latent-encoder' }]),
    ...(p.candidates > 1 ? [{ pack: p.pack, role: 'image-encoder' }, { pack: p.pack, role: 'video-text' }] : []),
  ],
  async execute(ctx, inputs, p) {
    const pack = videoPack(ctx.models, p.pack);
    const { video, schedule } = pack;
    const F = video.keyframes;
    const C = video.latentChannels;
    const plane = video.latentWidth * video.latentHeight;
    const frameSize = C * plane;
    const size = F * frameSize;
    if (inputs.text.pack !== p.pack) throw new Error(`input "text" was encoded by pack "${inputs.text.pack}", but this node uses "${p.pack}"`);
    if (p.mode !== 'generate' && !inputs.init) throw new Error(`mode "${p.mode}" needs the "init" input connected (frames to ${p.mode})`);

    const known = new Float32Array(size);
    const mask = new Float32Array(F * plane);
    let start: Float32Array | null = null;
    let strength = 1;
    let givenFrames: { index: number; frame: Uint8Array }[] = [];
    if (inputs.init && p.mode !== 'generate') {
      const init = inputs.init;
      let chosen: Uint8Array[];
      if (p.mode === 'animate') chosen = init.frames.slice(0, Math.min(p.given, init.frames.length));
      else if (p.mode === 'extend') chosen = init.frames.slice(Math.max(0, init.frames.length - p.given));
      else chosen = Array.from({ length: F }, (_, i) => init.frames[Math.round((i * (init.frames.length - 1)) / Math.max(1, F - 1))]!);
      const resized = await Promise.all(chosen.map((f) => resizeFrame(f, init.width, init.height, video.width, video.height, 'cover')));
      const latents = await encodeLatentFrames(ctx.models, p.pack, resized);
      if (p.mode === 'vary') {
        start = latents;
        strength = p.strength;
      } else {
        toVideoLayout(latents, resized.length, C, plane, F, known);
        for (let f = 0; f < resized.length; f++) mask.fill(1, f * plane, (f + 1) * plane);
        givenFrames = resized.map((frame, index) => ({ index, frame }));
      }
    }

    const timesteps = ddimTimesteps(schedule.trainSteps, p.steps, strength);
    const alphas = schedule.alphasCumprod;
    // Candidates are sampled as one batch; the first candidate's noise is what a single
    // sample would use, so candidates = 1 is exactly the plain sampler.
    const N = p.candidates;
    let x: Float32Array;
    if (start) {
      const startVideo = new Float32Array(size);
      toVideoLayout(start, F, C, plane, F, startVideo);
      x = noiseTo(repeat(startVideo, N), ctx.rng.fillNormal(new Float32Array(N * size)), alphas[timesteps[0]!]!);
    } else {
      x = ctx.rng.fillNormal(new Float32Array(N * size));
    }

    const E = pack.embeddingSize;
    const embedding = new Float32Array(E);
    if (inputs.embedding) {
      if (inputs.embedding.pack !== p.pack) throw new Error(`input "embedding" comes from pack "${inputs.embedding.pack}", but this node uses "${p.pack}"`);
      embedding.set(inputs.embedding.embedding.subarray(0, E));
    }
    // what the latent decoder reads of the prompt (a pack's decoder may draw what the words name)
    const decoderTextEmbedding = p.decoderText ? inputs.text.embedding : null;
    const x0 = await denoise(ctx, {
      pack: p.pack,
      schedule,
      x,
      rows: N,
      timesteps,
      guidance: p.guidance,
      tokens: inputs.text.tokens,
      tokensFilled: p.decoderText, // the ablation's rows stay all padding
      embedding,
      known,
      mask,
      dims: { C, F, h: video.latentHeight, w: video.latentWidth },
      onStep: async (step, estimate) => {
        if (!ctx.previewing) return;
        const frames = await decodeVideo(ctx, pack, p.pack, estimate.subarray(0, size), givenFrames, decoderTextEmbedding);
        ctx.preview(frames, { kind: 'step', step, steps: timesteps.length, firstFrame: 0, count: F });
      },
    });
    const frames =
      N > 1
        ? await bestCandidate(ctx, pack, p.pack, x0, N, inputs.text, givenFrames, decoderTextEmbedding)
        : await decodeVideo(ctx, pack, p.pack, x0, givenFrames, decoderTextEmbedding);
    ctx.preview(frames, { kind: 'step', step: timesteps.length, steps: timesteps.length, firstFrame: 0, count: F });
    return { frames };
  },
});

/**
 * Reranking: each candidate is scored by the pack's own encoders against the prompt, as
 * the sum of two cosines. The image CLIP's (text embedding . each keyframe's image
 * embedding) is taken at the worst keyframe, because what goes wrong goes wrong in one part
 * of a clip (the object fades, changes colour, becomes two); the video-text model reads all
 * keyframes together and so also knows the motion, which one frame cannot show.
 */
async function bestCandidate(
  ctx: ExecContext,
  pack: Pack,
  packName: string,
  x0: Float32Array,
  N: number,
  text: { tokens: readonly number[]; embedding: Float32Array },
  given: { index: number; frame: Uint8Array }[],
  decoderTextEmbedding: Float32Array | null,
): Promise<FrameSet> {
  const { video } = pack;
  const F = video.keyframes;
  const size = x0.length / N;
  const plane = video.width * video.height;
  const candidates: FrameSet[] = [];
  for (let n = 0; n < N; n++) candidates.push(await decodeVideo(ctx, pack, packName, x0.subarray(n * size, (n + 1) * size), given, decoderTextEmbedding));
  const perFrame = framesToTensor(candidates.flatMap((c) => c.frames), video.width, video.height);
  const images = firstFloatOutput(
    await ctx.models.run(packName, 'image-encoder', { image: { data: perFrame, dims: [N * F, 3, video.height, video.width] } }),
    `the image encoder of "${packName}"`,
  );
  const videos = new Float32Array(perFrame.length);
  for (let n = 0; n < N; n++) {
    const clip = 3 * F * plane;
    toVideoLayout(perFrame.subarray(n * clip, (n + 1) * clip), F, 3, plane, F, videos.subarray(n * clip, (n + 1) * clip));
  }
  const videoScores = firstFloatOutput(
    await ctx.models.run(packName, 'video-text', {
      frames: { data: videos, dims: [N, 3, F, video.height, video.width] },
      tokens: { data: tokenRows(text.tokens, N, N), dims: [N, text.tokens.length] },
    }),
    `the video-text model of "${packName}"`,
  );
  const textEmbedding = normalised(text.embedding);
  const E = images.length / (N * F);
  let best = 0;
  let bestScore = -Infinity;
  for (let n = 0; n < N; n++) {
    let worst = Infinity;
    for (let f = 0; f < F; f++) {
      const row = (n * F + f) * E;
      worst = Math.min(worst, dot(normalised(images.subarray(row, row + E)), textEmbedding));
    }
    const score = worst + videoScores[n]!;
    if (score > bestScore) [best, bestScore] = [n, score];
  }
  return candidates[best]!;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function normalised(v: Float32Array): Float32Array {
  let norm = 0;
  for (const value of v) norm += value * value;
  const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
  return v.map((value) => value * scale);
}

/**
 * Decodes a [C, F, H, W] latent video to frames; given frames are passed through exactly.
 * `textEmbedding`: the prompt, for a latent decoder that reads it (null: no text).
 */
async function decodeVideo(
  ctx: ExecContext,
  pack: Pack,
  packName: string,
  latents: Float32Array,
  given: { index: number; frame: Uint8Array }[],
  textEmbedding: Float32Array | null,
): Promise<FrameSet> {
  const { video } = pack;
  const F = video.keyframes;
  const C = video.latentChannels;
  const plane = video.latentWidth * video.latentHeight;
  const frames = await decodeLatentFrames(ctx.models, packName, fromVideoLayout(latents, C, plane, F), F, textEmbedding);
  for (const g of given) frames[g.index] = g.frame;
  return { width: video.width, height: video.height, fps: video.fps / video.interpolation, frames };
}
