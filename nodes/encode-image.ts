/**
 * Encode image: the pack's image encoder turns a picture into the image embedding the
 * decoder is conditioned on; fed to keyframes in place of the prior, it makes
 * variations of that picture.
 */
import { z } from 'zod';
import { defineNode } from './core/definition';
import { framesToTensor, resizeFrame } from './lib/frames';
import { packParam, videoPack } from './lib/pack';

export const encodeImageNode = defineNode({
  type: 'encode-image',
  version: 1,
  title: 'Encode image',
  category: 'image',
  description: 'Image to image embedding (for variations).',
  inputs: { image: { kind: 'image', label: 'image' } },
  outputs: { embedding: { kind: 'image-embedding', label: 'image embedding' } },
  params: z.object({ pack: packParam }),
  models: (p) => [{ pack: p.pack, role: 'image-encoder' }],
  async execute(ctx, inputs, p) {
    const { video, embeddingSize } = videoPack(ctx.models, p.pack);
    const image = inputs.image;
    const frame = await resizeFrame(image.frames[0]!, image.width, image.height, video.width, video.height, 'cover');
    const out = await ctx.models.run(p.pack, 'image-encoder', {
      image: { data: framesToTensor([frame], video.width, video.height), dims: [1, 3, video.height, video.width] },
    });
    const embedding = out.image_embedding?.data;
    if (!(embedding instanceof Float32Array) || embedding.length !== embeddingSize) {
      throw new Error(`the image encoder of "${p.pack}" returned no ${embeddingSize}-d image_embedding`);
    }
    return { embedding: { pack: p.pack, source: 'image' as const, embedding: Float32Array.from(embedding) } };
  },
});
