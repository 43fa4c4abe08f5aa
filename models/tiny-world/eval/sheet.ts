/**
 * Contact sheet of judged videos: one row per video, frames spread evenly over the clip,
 * and a stripe on the left that is green when the video obeyed its prompt, red when not,
 * so a reader of the pack README sees the failures without a legend.
 */
import sharp from 'sharp';
import type { Video } from '../world/analyze';

export interface SheetRow {
  video: Video;
  pass: boolean;
}

const GAP = 2;
const STRIPE = 6;
const PASS_COLOUR = [40, 170, 60] as const;
const FAIL_COLOUR = [210, 40, 40] as const;

/** Indices of `count` frames spread evenly from the first to the last. */
export function spreadFrames(total: number, count: number): number[] {
  if (total <= count) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.round((i * (total - 1)) / (count - 1)));
}

/** Keeps only the frames a sheet shows, so the eval need not hold whole videos. */
export function sheetFrames(video: Video, columns: number): Video {
  return { width: video.width, height: video.height, frames: spreadFrames(video.frames.length, columns).map((i) => Uint8Array.from(video.frames[i]!)) };
}

export function renderSheet(rows: readonly SheetRow[], columns: number): { pixels: Uint8Array; width: number; height: number } {
  if (rows.length === 0) throw new Error('a contact sheet needs at least one video');
  const tile = Math.max(...rows.map((r) => Math.max(r.video.width, r.video.height)));
  const width = STRIPE + GAP + columns * (tile + GAP);
  const height = rows.length * (tile + GAP);
  const pixels = new Uint8Array(width * height * 3).fill(128);
  rows.forEach((row, r) => {
    const top = r * (tile + GAP);
    const colour = row.pass ? PASS_COLOUR : FAIL_COLOUR;
    for (let y = top; y < top + tile; y++) for (let x = 0; x < STRIPE; x++) pixels.set(colour, (y * width + x) * 3);
    const { video } = row;
    spreadFrames(video.frames.length, columns).forEach((frameIndex, column) => {
      const frame = video.frames[frameIndex]!;
      const left = STRIPE + GAP + column * (tile + GAP);
      for (let y = 0; y < video.height; y++) {
        pixels.set(frame.subarray(y * video.width * 3, (y + 1) * video.width * 3), ((top + y) * width + left) * 3);
      }
    });
  });
  return { pixels, width, height };
}

export async function writeSheet(file: string, rows: readonly SheetRow[], columns: number): Promise<void> {
  const { pixels, width, height } = renderSheet(rows, columns);
  await sharp(pixels, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 9 }).toFile(file);
}
