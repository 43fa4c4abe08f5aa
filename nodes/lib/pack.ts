/**
 * Reading the video-generation parts of a pack's manifest, with errors that say which
 * pack lacks what, and the common "pack" param every model node carries.
 */
import { z } from 'zod';
import type { ModelAccess } from '../core/definition';

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
