/**
 * Writes the tiny-world training set in the layout of ../CONTRACT.md:
 * meta.json, clips.u8 (N x 29 x 64 x 64 x 3), tokens_full.i32 and tokens_static.i32
 * (N x K x 16), then READY last, so a trainer polling for READY never reads half a set.
 * Usage: npx tsx models/tiny-world/world/write-dataset.ts --clips 6000 --seed 1 --out data/tiny-world
 * Clips are streamed to disk one at a time: 6000 clips are 2.1 GB, never held in memory.
 */
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { tokenize } from '../../../server/runtime/tokenizer';
import { generateCaption } from './captions';
import { HELD_OUT, isHeldOut } from './heldout';
import { createRandom, mixSeed, type Random } from './random';
import { CLIP_FRAMES, renderClip, WORLD_RESOLUTION } from './render';
import {
  BACKGROUNDS,
  COLOURS,
  MAX_TOKENS,
  MOTIONS,
  SHAPES,
  SIZES,
  TOKENIZER_SPEC,
  VOCABULARY,
  type ClipAttributes,
} from './vocabulary';

export const CAPTIONS_PER_CLIP = 8;

export const DatasetArgsSchema = z.object({
  clips: z.coerce.number().int().positive().max(1_000_000),
  seed: z.coerce.number().int().nonnegative(),
  out: z.string().min(1),
  captionsPerClip: z.coerce.number().int().positive().max(64).default(CAPTIONS_PER_CLIP),
});
export type DatasetArgs = z.infer<typeof DatasetArgsSchema>;

const AttributesSchema = z.object({
  colour: z.enum(COLOURS as [string, ...string[]]),
  background: z.enum(BACKGROUNDS as [string, ...string[]]),
  shape: z.enum(SHAPES),
  size: z.enum(SIZES),
  motion: z.enum(MOTIONS),
  /** The renderer seed: renderClip(attributes, seed, { width: 256 }) re-renders the clip sharper. */
  seed: z.number().int().nonnegative(),
});

export const DatasetMetaSchema = z.object({
  clips: z.number().int().positive(),
  frames: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  captionsPerClip: z.number().int().positive(),
  maxTokens: z.number().int().positive(),
  vocabulary: z.array(z.string()),
  attributes: z.array(AttributesSchema),
  heldOut: z.array(
    z.object({ colour: z.string(), shape: z.string(), motion: z.string(), background: z.string() }),
  ),
  /** Value lists in a fixed order, for trainers that index attributes. */
  attributeValues: z.object({
    colour: z.array(z.string()),
    background: z.array(z.string()),
    shape: z.array(z.string()),
    size: z.array(z.string()),
    motion: z.array(z.string()),
  }),
  seed: z.number().int(),
});
export type DatasetMeta = z.infer<typeof DatasetMetaSchema>;

/** Uniform over every attribute, skipping held-out combinations. */
export function drawAttributes(random: Random): ClipAttributes {
  for (;;) {
    const attributes: ClipAttributes = {
      colour: random.pick(COLOURS),
      background: random.pick(BACKGROUNDS),
      shape: random.pick(SHAPES),
      size: random.pick(SIZES),
      motion: random.pick(MOTIONS),
    };
    if (!isHeldOut(attributes)) return attributes;
  }
}

function captionIds(caption: string): number[] {
  const result = tokenize(caption, TOKENIZER_SPEC);
  if (!result.ok) throw new Error(`generated caption "${caption}" does not tokenize: ${result.message}`);
  return result.ids;
}

export function writeDataset(args: DatasetArgs, log: (line: string) => void = () => {}): DatasetMeta {
  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  const readyPath = join(out, 'READY');
  if (existsSync(readyPath)) rmSync(readyPath);
  const random = createRandom(mixSeed(args.seed, 0x7157));
  const frameBytes = WORLD_RESOLUTION * WORLD_RESOLUTION * 3;
  const clipBuffer = new Uint8Array(CLIP_FRAMES * frameBytes);
  const tokensPerClip = args.captionsPerClip * MAX_TOKENS;
  const tokensFull = new Int32Array(args.clips * tokensPerClip);
  const tokensStatic = new Int32Array(args.clips * tokensPerClip);
  const attributes: DatasetMeta['attributes'] = [];
  const clipsFile = openSync(join(out, 'clips.u8'), 'w');
  const started = Date.now();
  try {
    for (let clip = 0; clip < args.clips; clip++) {
      const clipAttributes = drawAttributes(random);
      const renderSeed = random.integer(0, 2 ** 31);
      renderClip(clipAttributes, renderSeed, { into: clipBuffer });
      writeSync(clipsFile, clipBuffer);
      for (let variant = 0; variant < args.captionsPerClip; variant++) {
        const nameEverything = variant === 0;
        const full = generateCaption(clipAttributes, random, { nameMotion: true, nameEverything });
        const still = generateCaption(clipAttributes, random, { nameMotion: false, nameEverything });
        const at = clip * tokensPerClip + variant * MAX_TOKENS;
        tokensFull.set(captionIds(full), at);
        tokensStatic.set(captionIds(still), at);
      }
      attributes.push({ ...clipAttributes, seed: renderSeed });
      if ((clip + 1) % 500 === 0 || clip + 1 === args.clips) {
        const seconds = (Date.now() - started) / 1000;
        log(`${clip + 1}/${args.clips} clips, ${seconds.toFixed(1)} s, ${((clip + 1) / seconds).toFixed(1)} clips/s`);
      }
    }
  } finally {
    closeSync(clipsFile);
  }
  writeFileSync(join(out, 'tokens_full.i32'), tokensFull);
  writeFileSync(join(out, 'tokens_static.i32'), tokensStatic);
  const meta: DatasetMeta = DatasetMetaSchema.parse({
    clips: args.clips,
    frames: CLIP_FRAMES,
    height: WORLD_RESOLUTION,
    width: WORLD_RESOLUTION,
    captionsPerClip: args.captionsPerClip,
    maxTokens: MAX_TOKENS,
    vocabulary: VOCABULARY,
    attributes,
    heldOut: HELD_OUT,
    attributeValues: { colour: COLOURS, background: BACKGROUNDS, shape: SHAPES, size: SIZES, motion: MOTIONS },
    seed: args.seed,
  });
  writeFileSync(join(out, 'meta.json'), JSON.stringify(meta));
  writeFileSync(readyPath, `DATASET READY ${out}\n`);
  return meta;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      clips: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      'captions-per-clip': { type: 'string' },
    },
  });
  const args = DatasetArgsSchema.parse({ ...values, captionsPerClip: values['captions-per-clip'] });
  const meta = writeDataset(args, (line) => console.log(line));
  console.log(`DATASET READY ${resolve(args.out)} (${meta.clips} clips)`);
}
