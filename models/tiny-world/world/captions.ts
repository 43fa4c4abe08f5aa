/**
 * Captions of the tiny world: generation from a clip's attributes (for the dataset) and
 * parsing back to the attributes a prompt names (for the eval and the prompt node).
 * Grammar: [a|an|one] [small|big] <colour> <shape> <motion> [on a <background> background],
 * with synonyms, optional parts left out and optional parts in varying order.
 */
import { splitWords } from '../../../server/runtime/tokenizer';
import type { Random } from './random';
import {
  BACKGROUNDS,
  COLOURS,
  MOTION_PHRASES,
  MOTIONS,
  SHAPE_WORDS,
  SHAPES,
  SIZE_WORDS,
  SIZES,
  VOCABULARY,
  type Background,
  type ClipAttributes,
  type Colour,
  type Motion,
  type NamedAttributes,
  type Shape,
  type Size,
} from './vocabulary';

export interface CaptionOptions {
  /** Image-stage captions: a single frame cannot show motion. */
  nameMotion: boolean;
  /** Name every attribute the grammar can name (the first variant of each clip). */
  nameEverything: boolean;
}

/** How often each optional attribute is left out; the shape is always named. */
const OMIT_PROBABILITY = { colour: 0.2, size: 0.3, motion: 0.2, background: 0.3, article: 0.1 } as const;

function articleFor(nextWord: string, random: Random): string {
  if (random.chance(0.25)) return 'one';
  return /^[aeiou]/.test(nextWord) ? 'an' : 'a';
}

export function generateCaption(attributes: ClipAttributes, random: Random, options: CaptionOptions): string {
  const keep = (probability: number): boolean => options.nameEverything || !random.chance(probability);
  const adjectives: string[] = [];
  const sizeWord = SIZE_WORDS[attributes.size];
  if (sizeWord !== null && keep(OMIT_PROBABILITY.size)) adjectives.push(sizeWord);
  if (keep(OMIT_PROBABILITY.colour)) {
    // "big red ball" is the natural order; "red big ball" still has to be understood.
    if (random.chance(0.2)) adjectives.unshift(attributes.colour);
    else adjectives.push(attributes.colour);
  }
  const noun = random.pick(SHAPE_WORDS[attributes.shape]);
  const clauses: string[][] = [];
  if (options.nameMotion && keep(OMIT_PROBABILITY.motion)) {
    clauses.push([...random.pick(MOTION_PHRASES[attributes.motion])]);
  }
  if (keep(OMIT_PROBABILITY.background)) clauses.push(['on', 'a', attributes.background, 'background']);
  const orderedClauses = random.chance(0.5) ? clauses : [...clauses].reverse();
  const afterArticle = [...adjectives, noun];
  const words = [...afterArticle, ...orderedClauses.flat()];
  if (!(!options.nameEverything && random.chance(OMIT_PROBABILITY.article))) {
    words.unshift(articleFor(afterArticle[0]!, random));
  }
  return words.join(' ');
}

export type ParseResult =
  | { ok: true; attributes: NamedAttributes; words: string[] }
  | { ok: false; unknownWords: string[]; problems: string[]; words: string[]; message: string };

interface PhraseMatch {
  words: readonly string[];
  assign: Partial<Record<keyof ClipAttributes, string>>;
}

/** Every multi- or single-word unit that sets an attribute, longest first. */
const ATTRIBUTE_PHRASES: readonly PhraseMatch[] = (() => {
  const phrases: PhraseMatch[] = [];
  for (const motion of MOTIONS) {
    for (const phrase of MOTION_PHRASES[motion]) phrases.push({ words: phrase, assign: { motion } });
  }
  // Lenient forms people type: "moving to the left", "sliding left".
  for (const motion of ['left', 'right'] as const) {
    for (const verb of ['moving', 'going']) phrases.push({ words: [verb, 'to', 'the', motion], assign: { motion } });
    phrases.push({ words: ['sliding', motion], assign: { motion } });
  }
  for (const shape of SHAPES) for (const word of SHAPE_WORDS[shape]) phrases.push({ words: [word], assign: { shape } });
  for (const size of SIZES) {
    const word = SIZE_WORDS[size];
    if (word !== null) phrases.push({ words: [word], assign: { size } });
  }
  for (const colour of COLOURS) phrases.push({ words: [colour], assign: { colour } });
  for (const background of BACKGROUNDS) phrases.push({ words: [background], assign: { background } });
  return phrases.sort((a, b) => b.words.length - a.words.length);
})();

/** Words that carry no attribute but belong to the grammar. */
const FILLER_WORDS = new Set(['a', 'an', 'one', 'on', 'background']);

/**
 * The attributes a caption names. Unknown words are reported, never dropped; a word the
 * vocabulary knows but that is out of place ("moving" alone, two shapes) is a problem too.
 */
export function parseCaption(text: string): ParseResult {
  const words = splitWords(text);
  const known = new Set(VOCABULARY.slice(1));
  const unknownWords = [...new Set(words.filter((word) => !known.has(word)))];
  const problems: string[] = [];
  const attributes: Record<string, string> = {};
  let position = 0;
  while (position < words.length) {
    const match = ATTRIBUTE_PHRASES.find((phrase) =>
      phrase.words.every((word, offset) => words[position + offset] === word),
    );
    if (match === undefined) {
      const word = words[position]!;
      if (known.has(word) && !FILLER_WORDS.has(word)) problems.push(`"${word}" is out of place`);
      position += 1;
      continue;
    }
    for (const [key, value] of Object.entries(match.assign)) {
      const previous = attributes[key];
      if (previous !== undefined && previous !== value) problems.push(`two different ${key}s: ${previous} and ${value}`);
      attributes[key] = value;
    }
    position += match.words.length;
  }
  if (unknownWords.length > 0 || problems.length > 0) {
    const parts: string[] = [];
    if (unknownWords.length > 0) parts.push(`unknown word${unknownWords.length > 1 ? 's' : ''} ${unknownWords.map((w) => `"${w}"`).join(', ')}`);
    parts.push(...problems);
    return { ok: false, unknownWords, problems, words, message: parts.join('; ') };
  }
  const named: NamedAttributes = {};
  if (attributes.colour !== undefined) named.colour = attributes.colour as Colour;
  if (attributes.background !== undefined) named.background = attributes.background as Background;
  if (attributes.shape !== undefined) named.shape = attributes.shape as Shape;
  if (attributes.size !== undefined) named.size = attributes.size as Size;
  if (attributes.motion !== undefined) named.motion = attributes.motion as Motion;
  return { ok: true, attributes: named, words };
}
