/**
 * Developer tool: a PNG grid of rendered frames, to eyeball the shapes and motions.
 * Usage: npx tsx models/tiny-world/world/contact-sheet.ts [--out /tmp/sheet.png] [--size 64] [--seed 1]
 * Rows: one clip per shape x motion sample; columns: frames 0, 4, ..., 28.
 */
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { z } from 'zod';
import { createRandom } from './random';
import { CLIP_FRAMES, renderClip } from './render';
import { BACKGROUNDS, COLOURS, MOTIONS, SHAPES, SIZES, type ClipAttributes } from './vocabulary';

const ArgsSchema = z.object({
  out: z.string().default('/tmp/tiny-world-sheet.png'),
  size: z.coerce.number().int().min(8).max(512).default(64),
  seed: z.coerce.number().int().default(1),
  rows: z.coerce.number().int().min(1).max(64).default(12),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, size: { type: 'string' }, seed: { type: 'string' }, rows: { type: 'string' } },
  });
  const args = ArgsSchema.parse(values);
  const random = createRandom(args.seed);
  const columns = Array.from({ length: 8 }, (_, index) => index * 4);
  const gap = 2;
  const sheetWidth = columns.length * (args.size + gap);
  const sheetHeight = args.rows * (args.size + gap);
  const sheet = new Uint8Array(sheetWidth * sheetHeight * 3).fill(128);
  for (let row = 0; row < args.rows; row++) {
    const attributes: ClipAttributes = {
      colour: random.pick(COLOURS),
      background: random.pick(BACKGROUNDS),
      shape: SHAPES[row % SHAPES.length]!,
      size: random.pick(SIZES),
      motion: MOTIONS[Math.floor(row / 1.5) % MOTIONS.length]!,
    };
    console.log(`row ${row}: ${JSON.stringify(attributes)}`);
    const clip = renderClip(attributes, random.integer(0, 2 ** 31), { width: args.size, frames: CLIP_FRAMES });
    columns.forEach((frame, column) => {
      for (let y = 0; y < args.size; y++) {
        const source = (frame * args.size * args.size + y * args.size) * 3;
        const target = ((row * (args.size + gap) + y) * sheetWidth + column * (args.size + gap)) * 3;
        sheet.set(clip.subarray(source, source + args.size * 3), target);
      }
    });
  }
  await sharp(sheet, { raw: { width: sheetWidth, height: sheetHeight, channels: 3 } }).png().toFile(args.out);
  console.log(`wrote ${args.out}`);
}

await main();
