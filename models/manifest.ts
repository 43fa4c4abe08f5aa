/**
 * The model pack manifest: models/<pack>/manifest.json. Every pack, ours or a user's,
 * is described this way; the runtime refuses a pack whose manifest does not parse.
 */
import { z } from 'zod';

const DimSchema = z.union([z.number().int().nonnegative(), z.string().min(1).max(32)]);
export const TensorSpecSchema = z.object({
  dtype: z.enum(['float32', 'float16', 'int64', 'int32', 'uint8']),
  shape: z.array(DimSchema).max(8),
});

export const ModelFileSchema = z
  .object({
    file: z.string().regex(/^[A-Za-z0-9_.-]+\.onnx$/, 'a file name inside the pack folder ending in .onnx'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().positive(),
    scale: z.number().int().positive().optional(),
    description: z.string().optional(),
    inputs: z.record(z.string(), TensorSpecSchema),
    outputs: z.record(z.string(), TensorSpecSchema),
  })
  .passthrough();

export const ManifestSchema = z
  .object({
    format: z.literal('studio-model-pack'),
    version: z.literal(1),
    name: z.string().regex(/^[a-z0-9-]{1,64}$/),
    description: z.string().default(''),
    licence: z.string().min(1),
    source: z.string().default(''),
    models: z.record(z.string(), ModelFileSchema),
    tokenizer: z.object({ vocabulary: z.array(z.string()).min(2), maxTokens: z.number().int().positive() }).optional(),
    embeddingSize: z.number().int().positive().optional(),
    video: z
      .object({
        width: z.number().int().positive(),
        height: z.number().int().positive(),
        keyframes: z.number().int().positive(),
        latentChannels: z.number().int().positive(),
        latentWidth: z.number().int().positive(),
        latentHeight: z.number().int().positive(),
        fps: z.number().positive(),
        interpolation: z.number().int().positive(),
        /**
         * The decoder and latent codec also run at `scale` x the size (dynamic height and
         * width), so the refine node can redraw keyframes there. `words`: how the prompt reads
         * at that scale, for words that name a size relative to the decoder's latent cells (a
         * "small" object at 2x is as many cells across as a "big" one at 1x): each listed word
         * is replaced by its value, or left out when the value is null. A pack whose optional
         * `refiner` model was trained at that scale reads the prompt as it is (`{}`).
         */
        refine: z
          .object({ scale: z.number().int().min(2).max(4), words: z.record(z.string(), z.string().nullable()).default({}) })
          .optional(),
      })
      .optional(),
    schedule: z
      .object({
        trainSteps: z.number().int().positive(),
        prediction: z.enum(['v', 'eps']),
        alphasCumprod: z.array(z.number().min(0).max(1)),
      })
      .optional(),
  })
  .passthrough();

export type Manifest = z.infer<typeof ManifestSchema>;
export type ModelFile = z.infer<typeof ModelFileSchema>;
