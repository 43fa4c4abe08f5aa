/**
 * Held-out (colour, shape, motion, background) combinations: never rendered into the
 * training set, so the eval can ask for combinations the model has never seen. The list
 * is a pure function of a fixed seed; heldout.json is its written copy for other
 * languages, and a test fails if the two drift apart.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createRandom } from './random';
import { BACKGROUNDS, COLOURS, MOTIONS, SHAPES, type ClipAttributes } from './vocabulary';

export type HeldOutTuple = Pick<ClipAttributes, 'colour' | 'shape' | 'motion' | 'background'>;

export const HELD_OUT_SEED = 20261125;
export const HELD_OUT_COUNT = 150;
export const HELD_OUT_JSON_PATH = fileURLToPath(new URL('./heldout.json', import.meta.url));

export const HeldOutTupleSchema = z.object({
  colour: z.enum(COLOURS as [string, ...string[]]),
  shape: z.enum(SHAPES),
  motion: z.enum(MOTIONS),
  background: z.enum(BACKGROUNDS as [string, ...string[]]),
});

export function heldOutKey(tuple: HeldOutTuple): string {
  return `${tuple.colour}|${tuple.shape}|${tuple.motion}|${tuple.background}`;
}

export function computeHeldOut(): HeldOutTuple[] {
  const all: HeldOutTuple[] = [];
  for (const colour of COLOURS)
    for (const shape of SHAPES)
      for (const motion of MOTIONS) for (const background of BACKGROUNDS) all.push({ colour, shape, motion, background });
  const chosen = createRandom(HELD_OUT_SEED).shuffle(all).slice(0, HELD_OUT_COUNT);
  // Table order, so the JSON reads well and diffs stay small.
  const order = new Map(all.map((tuple, index) => [heldOutKey(tuple), index]));
  return chosen.sort((a, b) => order.get(heldOutKey(a))! - order.get(heldOutKey(b))!);
}

export const HELD_OUT: readonly HeldOutTuple[] = computeHeldOut();
export const HELD_OUT_KEYS: ReadonlySet<string> = new Set(HELD_OUT.map(heldOutKey));

export function isHeldOut(attributes: HeldOutTuple): boolean {
  return HELD_OUT_KEYS.has(heldOutKey(attributes));
}

export function heldOutJson(): string {
  // One tuple per line: readable and diff-friendly.
  const lines = HELD_OUT.map((tuple) => `  ${JSON.stringify(tuple)}`).join(',\n');
  return `{\n "seed": ${HELD_OUT_SEED},\n "heldOut": [\n${lines}\n ]\n}\n`;
}

/** The written copy, as other tools (the eval) read it. */
export function readHeldOutJson(): HeldOutTuple[] {
  const parsed = z
    .object({ seed: z.number(), heldOut: z.array(HeldOutTupleSchema) })
    .parse(JSON.parse(readFileSync(HELD_OUT_JSON_PATH, 'utf8')));
  return parsed.heldOut as HeldOutTuple[];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(HELD_OUT_JSON_PATH, heldOutJson());
  console.log(`wrote ${HELD_OUT_JSON_PATH} (${HELD_OUT.length} tuples)`);
}
