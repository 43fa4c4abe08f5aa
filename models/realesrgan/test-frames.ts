/**
 * Deterministic synthetic RGB frames for verification, tests and the benchmark: flat
 * regions with dark outlines (what anime-style models are trained on), gradients,
 * thin lines, and one noisy frame as the hard case for half-precision differences.
 */

export const FRAME_KINDS = ['shapes', 'stripes', 'noisy'] as const;
export type FrameKind = (typeof FRAME_KINDS)[number];

/** A small LCG: the same bytes on every machine. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function syntheticFrame(kind: FrameKind, width: number, height: number, seed = 1): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const rand = rng(seed * 7919 + width * 31 + height);
  const set = (x: number, y: number, r: number, g: number, b: number) => {
    const i = (y * width + x) * 3;
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
  };
  const circles = Array.from({ length: 3 }, () => ({
    cx: rand() * width,
    cy: rand() * height,
    r: (0.12 + rand() * 0.25) * Math.min(width, height),
    colour: [rand() * 255, rand() * 255, rand() * 255] as const,
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      let r = 40 + 150 * v;
      let g = 70 + 80 * u;
      let b = 150 - 60 * v;
      if (kind === 'stripes') {
        // Thin diagonal lines and a checker block: high frequencies at 1-3 px.
        if ((x + y) % 7 < 2) [r, g, b] = [235, 230, 210];
        if (x > width / 2 && y > height / 2 && ((x >> 1) + (y >> 1)) % 2 === 0) [r, g, b] = [20, 20, 30];
      }
      for (const c of circles) {
        const d = Math.hypot(x + 0.5 - c.cx, y + 0.5 - c.cy);
        if (d < c.r - 1.5) [r, g, b] = c.colour;
        else if (d < c.r) [r, g, b] = [25, 15, 20];
      }
      if (kind === 'noisy') {
        const n = (rand() - 0.5) * 60;
        r += n;
        g += n * 0.8;
        b += n * 1.2;
      }
      set(x, y, clampByte(r), clampByte(g), clampByte(b));
    }
  }
  return out;
}

function clampByte(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

export interface FrameDifference {
  /** Mean absolute difference per channel (R, G, B), in 8-bit levels. */
  mad: [number, number, number];
  maxAbs: number;
  /** PSNR over all channels, in dB (Infinity when identical). */
  psnr: number;
}

export function compareFrames(a: Uint8Array, b: Uint8Array): FrameDifference {
  if (a.length !== b.length || a.length % 3 !== 0) throw new Error(`cannot compare frames of ${a.length} and ${b.length} bytes`);
  const sums = [0, 0, 0];
  let sq = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sums[i % 3]! += Math.abs(d);
    sq += d * d;
    if (Math.abs(d) > maxAbs) maxAbs = Math.abs(d);
  }
  const pixels = a.length / 3;
  const mse = sq / a.length;
  return {
    mad: [sums[0]! / pixels, sums[1]! / pixels, sums[2]! / pixels],
    maxAbs,
    psnr: mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse),
  };
}
