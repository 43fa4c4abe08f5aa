/**
 * Re-renders the keyframes (frames 0, 4, ..., 28) of every clip of a written data set at a
 * larger size, for the refiner stage (the decoder fine-tuned at 2x: 32x32 latents of 128-px
 * frames). Writes `keyframes<size>.u8` (N x 8 x size x size x 3 uint8) beside clips.u8, then
 * `keyframes<size>.READY`, so a trainer never reads half a file.
 * Usage: npx tsx models/tiny-world/world/write-keyframes.ts --data data/tiny-world --size 128
 */
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DatasetMetaSchema } from './write-dataset';
import { CLIP_FRAMES, renderClip } from './render';
import type { ClipAttributes } from './vocabulary';

const KEYFRAME_STRIDE = 4;

const ArgsSchema = z.object({
  data: z.string().min(1),
  size: z.coerce.number().int().min(16).max(512),
});

function writeKeyframes(data: string, size: number, log: (line: string) => void): number {
  const meta = DatasetMetaSchema.parse(JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8')));
  const ready = join(data, `keyframes${size}.READY`);
  rmSync(ready, { force: true });
  const frameBytes = size * size * 3;
  const clip = new Uint8Array(CLIP_FRAMES * frameBytes);
  const file = openSync(join(data, `keyframes${size}.u8`), 'w');
  const started = Date.now();
  try {
    meta.attributes.forEach(({ seed, ...attributes }, index) => {
      renderClip(attributes as ClipAttributes, seed, { width: size, into: clip });
      for (let frame = 0; frame < CLIP_FRAMES; frame += KEYFRAME_STRIDE) {
        writeSync(file, clip, frame * frameBytes, frameBytes);
      }
      if ((index + 1) % 1000 === 0) log(`${index + 1}/${meta.clips} clips, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
  } finally {
    closeSync(file);
  }
  writeFileSync(ready, `KEYFRAMES READY ${meta.clips} x ${size}\n`);
  return meta.clips;
}

const { values } = parseArgs({ options: { data: { type: 'string' }, size: { type: 'string' } } });
const args = ArgsSchema.parse({ data: values.data ?? 'data/tiny-world', size: values.size ?? '128' });
console.log(`wrote ${writeKeyframes(args.data, args.size, console.log)} clips' keyframes at ${args.size}px`);
