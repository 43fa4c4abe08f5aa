/**
 * The tiny world's tables (docs: /work/shared/TINY_WORLD.md) and the token vocabulary
 * derived from them. Everything that names a colour, shape or motion imports it from
 * here, so the renderer, the captions, the analyzer and the model pack cannot disagree.
 */
export type RGB = readonly [number, number, number];

export const OBJECT_COLOURS = {
  red: [220, 40, 40],
  orange: [245, 140, 30],
  yellow: [240, 220, 40],
  green: [50, 190, 70],
  cyan: [40, 210, 220],
  blue: [40, 80, 230],
  purple: [150, 60, 210],
  pink: [245, 120, 190],
} as const satisfies Record<string, RGB>;

export const BACKGROUND_COLOURS = {
  black: [12, 12, 16],
  white: [240, 240, 240],
  gray: [100, 100, 100],
  navy: [20, 28, 80],
  sand: [205, 185, 140],
} as const satisfies Record<string, RGB>;

export type Colour = keyof typeof OBJECT_COLOURS;
export type Background = keyof typeof BACKGROUND_COLOURS;

export const COLOURS = Object.keys(OBJECT_COLOURS) as Colour[];
export const BACKGROUNDS = Object.keys(BACKGROUND_COLOURS) as Background[];
export const SHAPES = ['circle', 'square', 'triangle', 'star', 'heart', 'diamond'] as const;
/** 'medium' is the size a caption leaves unnamed: there is no word for it. */
export const SIZES = ['small', 'medium', 'big'] as const;
export const MOTIONS = ['left', 'right', 'up', 'down', 'growing', 'shrinking', 'bouncing', 'still'] as const;

export type Shape = (typeof SHAPES)[number];
export type Size = (typeof SIZES)[number];
export type Motion = (typeof MOTIONS)[number];

/** Everything a clip is made of; the renderer's input and the analyzer's verdict. */
export interface ClipAttributes {
  colour: Colour;
  background: Background;
  shape: Shape;
  size: Size;
  motion: Motion;
}

/** What a caption names; an absent key means "any value is fine". */
export type NamedAttributes = Partial<ClipAttributes>;

export const SHAPE_WORDS: Record<Shape, readonly string[]> = {
  circle: ['circle', 'ball', 'disc'],
  square: ['square', 'box'],
  triangle: ['triangle'],
  star: ['star'],
  heart: ['heart'],
  diamond: ['diamond', 'rhombus'],
};

export const SIZE_WORDS: Record<Size, string | null> = { small: 'small', medium: null, big: 'big' };

/** Each phrase is a list of words; all phrases of a motion are synonyms. */
export const MOTION_PHRASES: Record<Motion, readonly (readonly string[])[]> = {
  left: [['moving', 'left'], ['going', 'left'], ['sliding', 'to', 'the', 'left']],
  right: [['moving', 'right'], ['going', 'right'], ['sliding', 'to', 'the', 'right']],
  up: [['moving', 'up'], ['going', 'up'], ['sliding', 'up']],
  down: [['moving', 'down'], ['going', 'down'], ['sliding', 'down']],
  growing: [['growing'], ['getting', 'bigger']],
  shrinking: [['shrinking'], ['getting', 'smaller']],
  bouncing: [['bouncing'], ['hopping']],
  still: [['standing', 'still'], ['not', 'moving']],
};

export const ARTICLES = ['a', 'an', 'one'] as const;
/** "on a <background> background" */
export const BACKGROUND_CLAUSE_WORDS = ['on', 'a', 'background'] as const;

export const PAD_TOKEN = '<pad>';

/**
 * Token ids in a fixed order (first appearance in the tables above, <pad> = 0). The
 * order is part of every trained model pack: append new words, never reorder.
 */
export const VOCABULARY: readonly string[] = (() => {
  const words = [
    PAD_TOKEN,
    ...ARTICLES,
    ...SIZES.flatMap((size) => (SIZE_WORDS[size] === null ? [] : [SIZE_WORDS[size]])),
    ...COLOURS,
    ...SHAPES.flatMap((shape) => SHAPE_WORDS[shape]),
    ...MOTIONS.flatMap((motion) => MOTION_PHRASES[motion].flat()),
    ...BACKGROUND_CLAUSE_WORDS,
    ...BACKGROUNDS,
  ];
  return [...new Set(words)];
})();

/** Captions are at most 12 words long; 16 leaves room and is fixed by CONTRACT.md. */
export const MAX_TOKENS = 16;

export const TOKENIZER_SPEC = { vocabulary: VOCABULARY, maxTokens: MAX_TOKENS } as const;
