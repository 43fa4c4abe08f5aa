/**
 * Prompt: the text a video should show, tokenised with the pack's vocabulary and
 * encoded by its text encoder. Words the pack does not know are reported before the
 * run starts, never silently dropped.
 */
import { z } from 'zod';
import { defineNode, type ModelAccess } from './core/definition';
import type { TextEmbedding } from './core/values';
import { tokenize } from '../server/runtime/tokenizer';
import { packParam, videoPack } from './lib/pack';

export const promptNode = defineNode({
  type: 'prompt',
  version: 1,
  title: 'Prompt',
  category: 'text',
  description: 'Text to video prompt, encoded by the pack’s text encoder.',
  inputs: {},
  outputs: { text: { kind: 'text-embedding', label: 'text' } },
  params: z.object({
    text: z
      .string()
      .min(1)
      .max(500)
      .default('a red circle moving right on a navy background')
      .describe('What the video shows, in the pack’s vocabulary')
      .meta({ widget: 'textarea', label: 'Prompt' }),
    pack: packParam,
  }),
  models: (p) => [{ pack: p.pack, role: 'text-encoder' }],
  check: (p, models) => {
    const { tokenizer } = videoPack(models, p.pack);
    const result = tokenize(p.text, tokenizer);
    return result.ok ? [] : [{ field: 'params.text', message: result.message }];
  },
  async execute(ctx, _inputs, p) {
    return { text: await encodePrompt(ctx.models, p.pack, p.text) };
  },
});

/** The prompt's tokens and text embedding (the prompt node's output; the eval's ceiling run uses it too). */
export async function encodePrompt(models: ModelAccess, pack: string, text: string, field = 'param "text"'): Promise<TextEmbedding> {
  const { tokenizer, embeddingSize } = videoPack(models, pack);
  const result = tokenize(text, tokenizer);
  if (!result.ok) throw new Error(`${field}: ${result.message}`);
  const out = await models.run(pack, 'text-encoder', {
    tokens: { data: BigInt64Array.from(result.ids.map(BigInt)), dims: [1, tokenizer.maxTokens] },
  });
  const embedding = out.text_embedding?.data;
  if (!(embedding instanceof Float32Array) || embedding.length !== embeddingSize) {
    throw new Error(`the text encoder of "${pack}" returned no ${embeddingSize}-d text_embedding`);
  }
  return { prompt: text, pack, tokens: result.ids, embedding: Float32Array.from(embedding) };
}
