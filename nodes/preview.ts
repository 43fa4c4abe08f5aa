/**
 * Preview: a sink that shows any frames in the editor and the inspector without
 * writing a file: attach it anywhere to look at an intermediate stage.
 */
import { z } from 'zod';
import { defineNode } from './core/definition';

export const previewNode = defineNode({
  type: 'preview',
  version: 1,
  title: 'Preview',
  category: 'output',
  description: 'Shows frames in the editor without writing a file.',
  inputs: { frames: { kind: 'frames', label: 'frames' } },
  outputs: { frames: { kind: 'frames', label: 'frames' } },
  params: z.object({}),
  volatile: true,
  async execute(ctx, inputs) {
    const set = inputs.frames;
    for (let i = 0; i < set.frames.length; i++) {
      ctx.throwIfAborted();
      ctx.preview({ ...set, frames: [set.frames[i]!] }, { kind: 'frame', firstFrame: i, count: set.frames.length });
      ctx.progress(i + 1, set.frames.length);
    }
    return { frames: set };
  },
});
