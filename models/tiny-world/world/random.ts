/**
 * Seeded randomness for the tiny world. Every clip, caption and held-out list is a pure
 * function of integer seeds, so a dataset can be rebuilt bit for bit and the eval can
 * re-render any training clip at a higher resolution.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(low: number, high: number): number;
  integer(lowInclusive: number, highExclusive: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  shuffle<T>(items: readonly T[]): T[];
}

/** Murmur3's finaliser: spreads nearby seeds (1, 2, 3...) into unrelated states. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** mulberry32: tiny, fast and good enough for procedural content. */
export function createRandom(seed: number): Random {
  let state = mixSeed(seed) | 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const integer = (lowInclusive: number, highExclusive: number): number =>
    lowInclusive + Math.floor(next() * (highExclusive - lowInclusive));
  return {
    next,
    uniform: (low, high) => low + next() * (high - low),
    integer,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[integer(0, items.length)]!;
    },
    chance: (probability) => next() < probability,
    shuffle: (items) => {
      const result = [...items];
      for (let i = result.length - 1; i > 0; i--) {
        const j = integer(0, i + 1);
        [result[i], result[j]] = [result[j]!, result[i]!];
      }
      return result;
    },
  };
}
