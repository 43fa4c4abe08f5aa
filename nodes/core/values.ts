/**
 * The values that travel along edges, one type per port kind. Frames are RGB, 8 bits per
 * channel, row-major, no padding: compact to cache and cheap to preview and export.
 */
import type { PortKind } from './ports';

export interface FrameSet {
  width: number;
  height: number;
  fps: number;
  frames: Uint8Array[];
}

export interface TextEmbedding {
  prompt: string;
  pack: string;
  tokens: number[];
  embedding: Float32Array;
}

export interface ImageEmbedding {
  pack: string;
  source: 'prior' | 'image';
  embedding: Float32Array;
}

export interface OutputFile {
  /** Path relative to the job's output folder. */
  name: string;
  path: string;
  mime: string;
  bytes: number;
  frames: number;
  width: number;
  height: number;
  fps: number;
}

export interface PortValues {
  'text-embedding': TextEmbedding;
  'image-embedding': ImageEmbedding;
  frames: FrameSet;
  image: FrameSet;
  file: OutputFile;
}

export type PortValue<K extends PortKind> = PortValues[K];

export function frameSetBytes(set: FrameSet): number {
  return set.frames.reduce((sum, f) => sum + f.byteLength, 0);
}

/** Rough size in bytes of any port value, for the cache's byte budget. */
export function valueBytes(value: unknown): number {
  if (value === null || typeof value !== 'object') return 16;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((s: number, v) => s + valueBytes(v), 16);
  let sum = 64;
  for (const v of Object.values(value)) sum += valueBytes(v);
  return sum;
}
