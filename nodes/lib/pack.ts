/**
 * Reading the video-generation parts of a pack's manifest, with errors that say which
 * pack lacks what, the common "pack" param every model node carries, and decoding latents
 * with the pack's latent decoder (keyframes node, eval).
 */
import { z } from 'zod';
import type { ModelAccess } from '../core/definition';
import { framesToTensor, tensorToFrames } from './frames';

export const packParam = z
  .string()
  .regex(/^[a-z0-9-]{1,64}$/)
  .default('tiny-world')
  .describe('Model pack (a folder under models/ with a manifest.json)')
  .meta({ widget: 'text', label: 'Model pack' });

export function videoPack(models: ModelAccess, pack: string) {
  const manifest = models.manifest(pack);
  const { video, schedule, tokenizer, embeddingSize } = manifest;
  if (!video || !schedule || !tokenizer || !embeddingSize) {
    throw new Error(`model pack "${pack}" is not a text-to-video pack (its manifest has no video, schedule, tokenizer or embeddingSize)`);
  }
  return { manifest, video, schedule, tokenizer, embeddingSize };
}

/**
 * Latents [count, C, h, w] (one frame after another) through the pack's latent decoder, to
 * RGB frames. A pack's latent decoder may also read the prompt (an input named
 * `text_embedding` in its manifest, e.g. session 8's experimental tiny-world ae-predict
 * decoder; the shipped pack has none); it is given the prompt's text embedding, or zeros for
 * "no text" (`textEmbedding` null, e.g. the decoder-without-text ablation). `scale` > 1: latents
 * `scale` times the pack's latent size (the refine node; the pack's manifest says it may).
 */
export async function decodeLatentFrames(
  models: ModelAccess,
  pack: string,
  latents: Float32Array,
  count: number,
  textEmbedding: Float32Array | null,
  scale = 1,
): Promise<Uint8Array[]> {
  const { manifest, video, embeddingSize } = videoPack(models, pack);
  const feeds: Parameters<ModelAccess['run']>[2] = {
    latents: { data: latents, dims: [count, video.latentChannels, video.latentHeight * scale, video.latentWidth * scale] },
  };
  const textInput = manifest.models['latent-decoder']?.inputs.text_embedding;
  if (textInput) {
    const width = textInput.shape[textInput.shape.length - 1];
    if (textInput.dtype !== 'float32' || textInput.shape.length !== 2 || (typeof width === 'number' && width !== embeddingSize)) {
      throw new Error(
        `model pack "${pack}": its latent decoder's text_embedding input is ${textInput.dtype} [${textInput.shape.join(', ')}], expected float32 [B, ${embeddingSize}] (the pack's embeddingSize)`,
      );
    }
    const rows = new Float32Array(count * embeddingSize);
    if (textEmbedding) {
      if (textEmbedding.length !== embeddingSize) throw new Error(`the text embedding has ${textEmbedding.length} values, pack "${pack}" expects ${embeddingSize}`);
      for (let n = 0; n < count; n++) rows.set(textEmbedding, n * embeddingSize);
    }
    feeds.text_embedding = { data: rows, dims: [count, embeddingSize] };
  }
  const image = firstFloatOutput(await models.run(pack, 'latent-decoder', feeds), `the latent decoder of "${pack}"`);
  return tensorToFrames(image, count, video.width * scale, video.height * scale);
}

/**
 * RGB frames through the pack's latent encoder: latents [count, C, h, w], one frame after
 * another. `scale` > 1: frames `scale` times the pack's size (the refine node).
 */
export async function encodeLatentFrames(models: ModelAccess, pack: string, frames: readonly Uint8Array[], scale = 1): Promise<Float32Array> {
  const { video } = videoPack(models, pack);
  const [width, height] = [video.width * scale, video.height * scale];
  const out = await models.run(pack, 'latent-encoder', { image: { data: framesToTensor(frames, width, height), dims: [frames.length, 3, height, width] } });
  const latents = firstFloatOutput(out, `the latent encoder of "${pack}"`);
  const expected = frames.length * video.latentChannels * video.latentWidth * video.latentHeight * scale * scale;
  if (latents.length !== expected) throw new Error(`the latent encoder of "${pack}" returned ${latents.length} values for ${frames.length} frames of ${width}x${height}, expected ${expected}`);
  return latents;
}

/** A model's first output, which must be float32 (`what` names the model in the error). */
export function firstFloatOutput(out: Record<string, { data: unknown }>, what: string): Float32Array {
  const value = Object.values(out)[0]?.data;
  if (!(value instanceof Float32Array)) throw new Error(`${what} returned no float32 output`);
  return value;
}
