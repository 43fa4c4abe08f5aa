/**
 * Upscale: real pretrained super-resolution (Real-ESRGAN, converted from ncnn by our own
 * code, models/realesrgan) or lanczos as the non-learned choice. Frames are tiled with
 * overlap, so a large frame needs a bounded amount of memory, and previewed one by one.
 */
import { z } from 'zod';
import { defineNode } from './core/definition';
import { upscaleFrames, upscaleRoles, UPSCALE_MODELS } from './lib/upscale';

export const upscaleNode = defineNode({
  type: 'upscale',
  version: 1,
  title: 'Upscale',
  category: 'video',
  description: 'Super-resolution with Real-ESRGAN (animevideov3 is made for video), or lanczos.',
  inputs: { frames: { kind: 'frames', label: 'frames' } },
  outputs: { frames: { kind: 'frames', label: 'upscaled' } },
  params: z.object({
    model: z
      .enum(UPSCALE_MODELS)
      .default('animevideov3')
      .describe('animevideov3: Real-ESRGAN compact video model; x4plus-anime: the large RRDB model (slow); lanczos: not learned')
      .meta({ widget: 'select', label: 'Model' }),
    scale: z.literal([2, 3, 4, 8]).default(2).describe('Output size / input size (8 chains x4 and x2)').meta({ widget: 'select', label: 'Scale' }),
    tileSize: z
      .number()
      .int()
      .min(16)
      .max(1024)
      .default(128)
      .describe('Largest tile in input pixels: bounds memory per frame')
      .meta({ widget: 'number', label: 'Tile size' }),
    pack: z.string().regex(/^[a-z0-9-]{1,64}$/).default('realesrgan').describe('Model pack of the upscalers').meta({ widget: 'text', label: 'Model pack' }),
  }),
  models: (p) => (p.model === 'lanczos' ? [] : upscaleRoles(p.model, p.scale).map((role) => ({ pack: p.pack, role }))),
  async execute(ctx, inputs, p) {
    const set = inputs.frames;
    const count = set.frames.length;
    const out = await upscaleFrames(
      set,
      { model: p.model, scale: p.scale, tileSize: p.tileSize },
      (role) => ctx.models.session(p.pack, role),
      {
        signal: ctx.signal,
        onFrame: (frame, index, size) => ctx.preview({ width: size.width, height: size.height, fps: set.fps, frames: [frame] }, { kind: 'frame', firstFrame: index, count }),
        onProgress: (done, total) => ctx.progress(done, total, 'tiles'),
        onSessionTime: (ms) => ctx.models.recordSessionTime(ms),
      },
    );
    ctx.throwIfAborted();
    return { frames: { width: out.width, height: out.height, fps: set.fps, frames: out.frames } };
  },
});
