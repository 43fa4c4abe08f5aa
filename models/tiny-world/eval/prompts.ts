/**
 * The eval's prompts: held-out (colour, shape, motion, background) tuples, each with a
 * size and a caption from the dataset's own caption generator, so the eval asks the way
 * training captions are written but for combinations training never showed.
 */
import { generateCaption, parseCaption } from '../world/captions';
import { HELD_OUT, heldOutKey, type HeldOutTuple } from '../world/heldout';
import { createRandom, mixSeed } from '../world/random';
import { MOTIONS, SIZES, type ClipAttributes, type NamedAttributes } from '../world/vocabulary';

export interface EvalPrompt {
  index: number;
  /** The whole scene; the ceiling renders exactly this. */
  attributes: ClipAttributes;
  caption: string;
  /** What the caption names (parseCaption): only these are judged. */
  named: NamedAttributes;
  /** The caption names colour, shape, motion and background: a combination no training caption had. */
  namesWholeTuple: boolean;
  /** Seed for every seeded node of the workflow and for the ceiling's renderer. */
  seed: number;
}

/** Every other prompt names everything; keeps most prompts naming the whole held-out tuple and the motion. */
const NAME_EVERYTHING_EVERY = 2;

export function buildPrompts(count: number, seed: number): EvalPrompt[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`prompt count must be a positive integer, got ${count}`);
  const random = createRandom(mixSeed(seed, 0x70726f6d));
  const prompts: EvalPrompt[] = [];
  // Whole passes over a shuffled held-out list: no tuple repeats before all have been used.
  let order: readonly HeldOutTuple[] = [];
  for (let index = 0; index < count; index++) {
    if (index % HELD_OUT.length === 0) order = random.shuffle(HELD_OUT);
    const tuple = order[index % HELD_OUT.length]!;
    const attributes: ClipAttributes = { ...tuple, size: random.pick(SIZES) };
    const caption = generateCaption(attributes, random, { nameMotion: true, nameEverything: index % NAME_EVERYTHING_EVERY === 0 });
    const parsed = parseCaption(caption);
    if (!parsed.ok) throw new Error(`the caption generator wrote "${caption}", which does not parse: ${parsed.message}`);
    for (const [key, value] of Object.entries(parsed.attributes)) {
      if (attributes[key as keyof ClipAttributes] !== value) {
        throw new Error(`"${caption}" names ${key} ${value}, but the scene has ${attributes[key as keyof ClipAttributes]}`);
      }
    }
    const named = parsed.attributes;
    prompts.push({
      index,
      attributes,
      caption,
      named,
      namesWholeTuple: named.colour !== undefined && named.shape !== undefined && named.motion !== undefined && named.background !== undefined,
      seed: mixSeed(seed, index),
    });
  }
  return prompts;
}

export function describePrompts(prompts: readonly EvalPrompt[]): string {
  const tuples = new Set(prompts.map((p) => heldOutKey(p.attributes))).size;
  const share = (test: (p: EvalPrompt) => boolean) => prompts.filter(test).length;
  return (
    `${prompts.length} prompts over ${tuples} held-out tuples; ` +
    `${share((p) => p.namesWholeTuple)} name the whole tuple, ${share((p) => p.named.motion !== undefined)} name a motion, ` +
    `${share((p) => p.named.colour !== undefined)} a colour, ${share((p) => p.named.background !== undefined)} a background, ` +
    `${share((p) => p.named.size !== undefined)} a size`
  );
}

/**
 * Prompts for the contact sheet: `count` of them, as many motions as possible (the
 * attribute a still frame cannot show), preferring prompts that name their motion.
 */
export function pickSheetPrompts(prompts: readonly EvalPrompt[], count: number): EvalPrompt[] {
  const ranked = [...prompts].sort((a, b) => Number(b.named.motion !== undefined) - Number(a.named.motion !== undefined) || a.index - b.index);
  const chosen: EvalPrompt[] = [];
  const perMotion = new Map<string, number>();
  // Round-robin over motions: at most k per motion before any motion gets k + 1.
  for (let round = 1; chosen.length < Math.min(count, prompts.length); round++) {
    for (const prompt of ranked) {
      if (chosen.length >= count) break;
      if (chosen.includes(prompt)) continue;
      const used = perMotion.get(prompt.attributes.motion) ?? 0;
      if (used >= round) continue;
      chosen.push(prompt);
      perMotion.set(prompt.attributes.motion, used + 1);
    }
  }
  return chosen.sort((a, b) => MOTIONS.indexOf(a.attributes.motion) - MOTIONS.indexOf(b.attributes.motion) || a.index - b.index);
}
