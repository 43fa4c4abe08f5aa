import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tokenize } from '../../../server/runtime/tokenizer';
import { generateCaption, parseCaption } from './captions';
import { HELD_OUT, HELD_OUT_COUNT, HELD_OUT_JSON_PATH, heldOutJson, readHeldOutJson } from './heldout';
import { createRandom } from './random';
import {
  BACKGROUNDS,
  COLOURS,
  MAX_TOKENS,
  MOTION_PHRASES,
  MOTIONS,
  SHAPE_WORDS,
  SHAPES,
  SIZES,
  TOKENIZER_SPEC,
  VOCABULARY,
  type ClipAttributes,
} from './vocabulary';
import { VOCABULARY_JSON_PATH, vocabularyJson } from './write-vocabulary';

function everyCombination(): ClipAttributes[] {
  const all: ClipAttributes[] = [];
  for (const colour of COLOURS)
    for (const background of BACKGROUNDS)
      for (const shape of SHAPES)
        for (const size of SIZES) for (const motion of MOTIONS) all.push({ colour, background, shape, size, motion });
  return all;
}

describe('vocabulary', () => {
  it('starts with <pad> and has no duplicates', () => {
    expect(VOCABULARY[0]).toBe('<pad>');
    expect(new Set(VOCABULARY).size).toBe(VOCABULARY.length);
  });

  it('vocabulary.json and heldout.json are the written copies of the code', () => {
    expect(readFileSync(VOCABULARY_JSON_PATH, 'utf8')).toBe(vocabularyJson());
    expect(readFileSync(HELD_OUT_JSON_PATH, 'utf8')).toBe(heldOutJson());
    expect(readHeldOutJson()).toEqual(HELD_OUT);
    expect(HELD_OUT).toHaveLength(HELD_OUT_COUNT);
  });

  it('covers every generated caption, and every word is used by some caption', () => {
    const random = createRandom(5);
    const used = new Set<string>();
    const failures: string[] = [];
    const fail = (caption: string, why: string): void => void failures.push(`${caption}: ${why}`);
    for (const attributes of everyCombination()) {
      for (const nameMotion of [true, false]) {
        for (const nameEverything of [true, false]) {
          const caption = generateCaption(attributes, random, { nameMotion, nameEverything });
          const result = tokenize(caption, TOKENIZER_SPEC);
          if (!result.ok) fail(caption, result.message);
          result.words.forEach((word) => used.add(word));
          const parsed = parseCaption(caption);
          if (!parsed.ok) {
            fail(caption, parsed.message);
            continue;
          }
          // A caption names a subset of the truth; the shape is always named.
          for (const [key, value] of Object.entries(parsed.attributes)) {
            if (attributes[key as keyof ClipAttributes] !== value) fail(caption, `names ${key} ${value}`);
          }
          if (parsed.attributes.shape !== attributes.shape) fail(caption, 'shape not named');
          if (!nameMotion && parsed.attributes.motion !== undefined) fail(caption, 'static caption names a motion');
          const complete = parsed.attributes.colour === attributes.colour && parsed.attributes.background === attributes.background;
          if (nameEverything && (!complete || (nameMotion && parsed.attributes.motion !== attributes.motion))) fail(caption, 'leaves something out');
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    expect(MAX_TOKENS).toBe(16);
    expect([...used].sort()).toEqual(VOCABULARY.slice(1).toSorted());
  });
});

describe('parseCaption', () => {
  it('understands every synonym', () => {
    for (const shape of SHAPES) {
      for (const word of SHAPE_WORDS[shape]) expect(parseCaption(`a red ${word}`)).toMatchObject({ ok: true, attributes: { shape, colour: 'red' } });
    }
    for (const motion of MOTIONS) {
      for (const phrase of MOTION_PHRASES[motion]) {
        const text = `a big blue star ${phrase.join(' ')} on a sand background`;
        expect(parseCaption(text), text).toEqual({
          ok: true,
          attributes: { size: 'big', colour: 'blue', shape: 'star', motion, background: 'sand' },
          words: text.split(' '),
        });
      }
    }
    for (const background of BACKGROUNDS) expect(parseCaption(`one heart on a ${background} background`)).toMatchObject({ ok: true, attributes: { background } });
  });

  it('accepts the optional parts in any order and reads capitals and punctuation', () => {
    expect(parseCaption('On a navy background, an Orange small Ball going left.')).toMatchObject({
      ok: true,
      attributes: { background: 'navy', colour: 'orange', size: 'small', shape: 'circle', motion: 'left' },
    });
    expect(parseCaption('a star moving up')).toMatchObject({ ok: true, attributes: { shape: 'star', motion: 'up' } });
  });

  it('reports unknown words instead of dropping them', () => {
    const result = parseCaption('a purple dragon moving quickly left');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.unknownWords).toEqual(['dragon', 'quickly']);
      expect(result.message).toContain('"dragon"');
    }
    expect(parseCaption('a grey circle')).toMatchObject({ ok: false, unknownWords: ['grey'] });
  });

  it('reports known words out of place and contradictions', () => {
    expect(parseCaption('a moving ball')).toMatchObject({ ok: false, unknownWords: [] });
    expect(parseCaption('a red blue square')).toMatchObject({ ok: false, problems: ['two different colours: red and blue'] });
  });
});
