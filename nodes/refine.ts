/**
 * Refine: the keyframes redrawn at twice the pack's resolution (SDEdit, as a "hires fix" or
 * SDXL's refiner do; in the default workflow, workflows/text-to-video.json, after the
 * Real-ESRGAN upscale of the keyframes; workflows/text-to-video-fast.json goes without). The
 * frames are brought to 2x, encoded to latents twice the pack's latent size, noised to
 * `strength` and denoised in a few steps, then decoded (and, by default, kept at the size they
 * came in at).
 *
 * Why: at the pack's 16x16 latents a small object is ~2.5 latent cells across, too few for
 * the decoder to draw a star's points, and it comes out as a blob. At 32x32 it is ~5 cells,
 * and the moderate noise keeps the layout, colours and motion the keyframes already have.
 *
 * Which model redraws: the pack's `refiner` when it has one (tiny-world: its decoder
 * fine-tuned at 2x on 128-px renders and on blurred keyframes, which knows sizes and flat
 * colours there and turns a blob into the shape the words name), else the
 * pack's own decoder run at 2x. That one reads size words as a number of latent cells, so at 2x
 * they would ask for another size; the manifest says how to read them there
 * (`video.refine.words`: left out for a pack without a refiner).
 */
import { z } from 'zod';
import { defineNode, type ExecContext } from './core/definition';
import type { FrameSet, TextEmbedding } from './core/values';
import { ddimTimesteps, noiseTo } from './lib/ddim';
import { fromVideoLayout, resizeFrame, resizeFrames, toVideoLayout } from './lib/frames';
import { decodeLatentFrames, encodeLatentFrames, packParam, videoPack } from './lib/pack';
import { denoise, guidanceParam, seedParam } from './lib/sample';
import { priorEmbedding } from './prior';
import { encodePrompt } from './prompt';

/** The role of a pack's model trained for this node's job (optional: without it the decoder redraws). */
export const REFINER_ROLE = 'refiner';

export const refineNode = defineNode({
  type: 'refine',
  version: 1,
  title: 'Refine',
  category: 'generate',
  description: 'Redraws the keyframes at 2x resolution with the pack’s refiner, or its decoder (a few low-noise steps): sharper shapes, small objects keep their points.',
  inputs: {
    frames: { kind: 'frames', label: 'keyframes', description: 'The pack’s keyframes (its count and aspect ratio), at any size: the default workflow upscales them first' },
    text: { kind: 'text-embedding', label: 'text' },
  },
  outputs: { frames: { kind: 'frames', label: 'keyframes' } },
  params: z.object({
    strength: z
      .number()
      .min(0.05)
      .max(0.9)
      .default(0.4)
      .describe('How much noise is added before redrawing (low: details only; high: the layout may change too)')
      .meta({ widget: 'slider', label: 'Strength', step: 0.05 }),
    steps: z.number().int().min(1).max(50).default(4).describe('DDIM steps from that noise level').meta({ widget: 'slider', label: 'Steps' }),
    guidance: guidanceParam,
    seed: seedParam,
    decoderText: z
      .boolean()
      .default(true)
      .describe('Let the decoder read the prompt’s words (off: it sees only the image embedding, as in the paper)')
      .meta({ widget: 'checkbox', label: 'Decoder reads text' }),
    output: z
      .enum(['input size', 'refined size'])
      .default('input size')
      .describe('input size: the redrawn keyframes brought back to the size they came in at (frames larger than the refine size are redrawn there and scaled up, so upscale after refine for more); refined size: kept at the pack’s refine size (2x)')
      .meta({ widget: 'select', label: 'Output size' }),
    pack: packParam,
  }),
  models: (p) => [
    { pack: p.pack, role: 'decoder' },
    { pack: p.pack, role: REFINER_ROLE, optional: true },
    { pack: p.pack, role: 'latent-encoder' },
    { pack: p.pack, role: 'latent-decoder' },
    { pack: p.pack, role: 'text-encoder' },
    { pack: p.pack, role: 'prior' },
  ],
  check: (p, models) => {
    const { video } = videoPack(models, p.pack);
    return video.refine ? [] : [{ field: 'params.pack', message: `model pack "${p.pack}" cannot refine: its manifest has no video.refine (its decoder runs at one size only)` }];
  },
  async execute(ctx, inputs, p) {
    const pack = videoPack(ctx.models, p.pack);
    const { video, schedule } = pack;
    const refine = video.refine;
    if (!refine) throw new Error(`model pack "${p.pack}" cannot refine: its manifest has no video.refine (its decoder runs at one size only)`);
    if (inputs.text.pack !== p.pack) throw new Error(`input "text" was encoded by pack "${inputs.text.pack}", but this node uses "${p.pack}"`);
    const F = video.keyframes;
    const keyframes = inputs.frames;
    if (keyframes.frames.length !== F) {
      throw new Error(`input "frames": expected the ${F} keyframes of pack "${p.pack}" (connect a keyframes node), got ${keyframes.frames.length} frames`);
    }
    if (keyframes.width * video.height !== keyframes.height * video.width) {
      throw new Error(`input "frames": expected frames shaped like the pack's ${video.width}x${video.height} keyframes (any size, same aspect ratio), got ${keyframes.width}x${keyframes.height}`);
    }
    const s = refine.scale;
    const [width, height] = [video.width * s, video.height * s];
    const [h, w] = [video.latentHeight * s, video.latentWidth * s];
    const C = video.latentChannels;
    const plane = h * w;
    const size = C * F * plane;

    const upscaled = await Promise.all(keyframes.frames.map((f) => resizeFrame(f, keyframes.width, keyframes.height, width, height, 'fill', 'cubic')));
    const perFrame = await encodeLatentFrames(ctx.models, p.pack, upscaled, s);
    const clean = new Float32Array(size);
    toVideoLayout(perFrame, F, C, plane, F, clean);

    const timesteps = ddimTimesteps(schedule.trainSteps, p.steps, p.strength);
    const x = noiseTo(clean, ctx.rng.fillNormal(new Float32Array(size)), schedule.alphasCumprod[timesteps[0]!]!);
    const conditioning = await promptAtScale(ctx, p.pack, inputs.text, refine.words);
    const decode = async (latents: Float32Array): Promise<FrameSet> => ({
      width,
      height,
      fps: keyframes.fps,
      frames: await decodeLatentFrames(ctx.models, p.pack, fromVideoLayout(latents, C, plane, F), F, p.decoderText ? conditioning.text.embedding : null, s),
    });
    const x0 = await denoise(ctx, {
      pack: p.pack,
      role: REFINER_ROLE in pack.manifest.models ? REFINER_ROLE : 'decoder',
      schedule,
      x,
      rows: 1,
      timesteps,
      guidance: p.guidance,
      tokens: conditioning.text.tokens,
      tokensFilled: p.decoderText,
      embedding: conditioning.imageEmbedding,
      known: new Float32Array(size),
      mask: new Float32Array(F * plane),
      dims: { C, F, h, w },
      onStep: async (step, estimate) => {
        if (ctx.previewing) ctx.preview(await decode(estimate), { kind: 'step', step, steps: timesteps.length, firstFrame: 0, count: F });
      },
    });
    const refined = await decode(x0);
    const frames = p.output === 'refined size' ? refined : await resizeFrames(refined, keyframes.width, keyframes.height);
    ctx.preview(frames, { kind: 'step', step: timesteps.length, steps: timesteps.length, firstFrame: 0, count: F });
    return { frames };
  },
});

/**
 * The prompt as the decoder reads it at the refine scale (the pack's `video.refine.words`:
 * size words replaced or left out), its text embedding, and the prior's image embedding for it.
 */
async function promptAtScale(
  ctx: ExecContext,
  packName: string,
  text: TextEmbedding,
  words: Readonly<Record<string, string | null>>,
): Promise<{ text: TextEmbedding; imageEmbedding: Float32Array }> {
  const { tokenizer } = videoPack(ctx.models, packName);
  const prompt = text.tokens.filter((id) => id !== 0).map((id) => tokenizer.vocabulary[id] ?? '');
  const read = prompt.flatMap((word) => (Object.hasOwn(words, word) ? (words[word] === null ? [] : [words[word]!]) : [word]));
  // the prompt as it is when no word of it is listed (a pack with a refiner lists none), and a
  // prompt of nothing but size words ("big") keeps them: an empty prompt would be no prompt at all
  const rewritten = prompt.some((word) => Object.hasOwn(words, word)) && read.length > 0;
  const reworded = rewritten ? await encodePrompt(ctx.models, packName, read.join(' '), `model pack "${packName}" video.refine.words`) : text;
  return { text: reworded, imageEmbedding: await priorEmbedding(ctx.models, packName, reworded.embedding) };
}
