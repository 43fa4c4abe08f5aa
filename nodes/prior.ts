/**
 * Prior: maps a text embedding to the image embedding the decoder is conditioned on
 * (Make-A-Video's P). Swapping this node for encode-image gives image variations.
 */
import { z } from 'zod';
import { defineNode, type ModelAccess } from './core/definition';
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
    if (inputs.text.pack !== p.pack) {
      throw new Error(`input "text" was encoded by pack "${inputs.text.pack}", but this node uses "${p.pack}"`);
    }
    return { embedding: { pack: p.pack, source: 'prior' as const, embedding: await priorEmbedding(ctx.models, p.pack, inputs.text.embedding) } };
  },
});

/** The pack's prior: a text embedding to the image embedding the decoder is conditioned on (the refine node uses it too). */
export async function priorEmbedding(models: ModelAccess, pack: string, textEmbedding: Float32Array): Promise<Float32Array> {
  const { embeddingSize } = videoPack(models, pack);
  const out = await models.run(pack, 'prior', { text_embedding: { data: textEmbedding, dims: [1, embeddingSize] } });
  const embedding = out.image_embedding?.data;
  if (!(embedding instanceof Float32Array)) throw new Error(`the prior of "${pack}" returned no image_embedding`);
  return Float32Array.from(embedding);
}
