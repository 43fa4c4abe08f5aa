/**
 * Prior: maps a text embedding to the image embedding the decoder is conditioned on
 * (Make-A-Video's P). Swapping this node for encode-image gives image variations.
 */
import { z } from 'zod';
import { defineNode } from './core/definition';
import { packParam, videoPack } from './lib/pack';

export const priorNode = defineNode({
  type: 'prior',
  version: 1,
  title: 'Prior',
  category: 'generate',
  description: 'Text embedding to image embedding.',
  inputs: { text: { kind: 'text-embedding', label: 'text' } },
  outputs: { embedding: { kind: 'image-embedding', label: 'image embedding' } },
  params: z.object({ pack: packParam }),
  models: (p) => [{ pack: p.pack, role: 'prior' }],
  async execute(ctx, inputs, p) {
    const { embeddingSize } = videoPack(ctx.models, p.pack);
    if (inputs.text.pack !== p.pack) {
      throw new Error(`input "text" was encoded by pack "${inputs.text.pack}", but this node uses "${p.pack}"`);
    }
    const out = await ctx.models.run(p.pack, 'prior', { text_embedding: { data: inputs.text.embedding, dims: [1, embeddingSize] } });
    const embedding = out.image_embedding?.data;
    if (!(embedding instanceof Float32Array)) throw new Error(`the prior of "${p.pack}" returned no image_embedding`);
    return { embedding: { pack: p.pack, source: 'prior' as const, embedding: Float32Array.from(embedding) } };
  },
});
