/**
 * Export: frames to a file in the job's output folder, carrying the workflow and seed
 * that made it (see lib/media-metadata.ts for where each format keeps them).
 *
 * Formats: mp4 (H.264, yuv420p, even size), webm (VP9), gif (palette generated from the
 * clip itself), png (a zip of numbered PNG frames plus frames.json; one file, so the
 * output is one download, and every frame still reopens the workflow on its own; a
 * single frame is written as a plain .png).
 *
 * Files appear whole or not at all: everything is written to a hidden temp file in the
 * output folder and hard-linked to its final name, which also never overwrites an
 * earlier output of the same name (a "-2", "-3" suffix is added instead).
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineNode, type ExecContext } from './core/definition';
import type { FrameSet, OutputFile } from './core/values';
import { canonicalJson } from './core/workflow';
import { assertFrameSet, encodePng } from './lib/frames';
import { rawInputArgs, runFfmpeg } from './lib/ffmpeg';
import { addGifComment, addPngText, setGifFrameDelays, embeddedText, ffmpegMetadataArgs, type EmbeddedText } from './lib/media-metadata';
import { writeZip, type ZipEntry } from './lib/zip';

export const EXPORT_FORMATS = ['mp4', 'webm', 'gif', 'png'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const FORMAT_INFO: Record<ExportFormat, { ext: string; mime: string }> = {
  mp4: { ext: 'mp4', mime: 'video/mp4' },
  webm: { ext: 'webm', mime: 'video/webm' },
  gif: { ext: 'gif', mime: 'image/gif' },
  png: { ext: 'zip', mime: 'application/zip' },
};

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}(-\d+)?\.[a-z0-9]+$/;

export const exportParams = z.object({
  format: z
    .enum(EXPORT_FORMATS)
    .default('mp4')
    .describe('mp4 (H.264), webm (VP9), gif, or png (a zip of PNG frames)')
    .meta({ widget: 'select', label: 'Format' }),
  fps: z
    .number()
    .min(0)
    .max(240)
    .default(0)
    .describe('Frames per second of the file; 0 keeps the rate of the incoming frames')
    .meta({ widget: 'number', label: 'FPS', step: 1 }),
  filename: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/, 'letters, digits, "-" and "_" only (the extension is added)')
    .default('video')
    .describe('File name without extension, inside the job’s output folder')
    .meta({ widget: 'text', label: 'File name' }),
  quality: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(75)
    .describe('Encoding quality, 1-100 (mp4 and webm: maps to CRF; gif: 100 = no dithering)')
    .meta({ widget: 'slider', label: 'Quality', step: 1 }),
  loop: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(0)
    .describe('How many times the animation plays: 0 = endlessly (gif; videos and frames play once), n = n times (gif by its loop count, others by repeating the clip)')
    .meta({ widget: 'number', label: 'Loop count', step: 1 }),
  pingPong: z
    .boolean()
    .default(false)
    .describe('Play forwards then backwards (end frames not doubled), for a seamless loop')
    .meta({ widget: 'checkbox', label: 'Ping-pong' }),
});
export type ExportParams = z.infer<typeof exportParams>;

/** The frame sequence actually written: ping-pong and repeats applied. */
export function arrangeFrames(frames: readonly Uint8Array[], params: Pick<ExportParams, 'format' | 'loop' | 'pingPong'>): Uint8Array[] {
  let out = [...frames];
  if (params.pingPong && frames.length > 2) out = out.concat(frames.slice(1, -1).reverse());
  else if (params.pingPong && frames.length === 2) out = [frames[0]!, frames[1]!];
  if (params.format !== 'gif' && params.loop > 1) {
    const once = out;
    out = [];
    for (let i = 0; i < params.loop; i++) out = out.concat(once);
  }
  return out;
}

/** Grows odd sizes by one, repeating the last column / row (yuv420p needs even sizes). */
export function padToEven(frame: Uint8Array, width: number, height: number): { frame: Uint8Array; width: number; height: number } {
  const w = width + (width % 2);
  const h = height + (height % 2);
  if (w === width && h === height) return { frame, width, height };
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(y, height - 1);
    out.set(frame.subarray(sy * width * 3, (sy + 1) * width * 3), y * w * 3);
    if (w !== width) out.copyWithin(y * w * 3 + width * 3, y * w * 3 + (width - 1) * 3, y * w * 3 + width * 3);
  }
  return { frame: out, width: w, height: h };
}

/** quality 1..100 -> CRF on the codec's scale; ~75 is visually clean at small sizes. */
function crf(quality: number, max: number): number {
  return Math.round(4 + ((100 - quality) / 100) * (max - 4));
}

async function* feedFrames(ctx: ExecContext, frames: readonly Uint8Array[], label: string) {
  const step = Math.max(1, Math.floor(frames.length / 50));
  for (let i = 0; i < frames.length; i++) {
    ctx.throwIfAborted();
    yield frames[i]!;
    if (i % step === 0 || i === frames.length - 1) ctx.progress(i + 1, frames.length, label);
  }
}

interface Encoded {
  width: number;
  height: number;
}

async function encodeVideo(
  ctx: ExecContext,
  set: FrameSet,
  frames: Uint8Array[],
  fps: number,
  params: ExportParams,
  text: EmbeddedText,
  temp: string,
): Promise<Encoded> {
  let { width, height } = set;
  let input = frames;
  const args: string[] = [];
  if (params.format === 'mp4') {
    if (width % 2 || height % 2) {
      input = frames.map((f) => padToEven(f, set.width, set.height).frame);
      width += width % 2;
      height += height % 2;
    }
    args.push('-c:v', 'libx264', '-preset', 'medium', '-crf', String(crf(params.quality, 51)), '-pix_fmt', 'yuv420p');
    // use_metadata_tags keeps our own keys (workflow, seed); the comment survives without it.
    args.push('-movflags', '+faststart+use_metadata_tags', '-f', 'mp4');
  } else {
    args.push('-c:v', 'libvpx-vp9', '-crf', String(crf(params.quality, 63)), '-b:v', '0', '-pix_fmt', 'yuv420p');
    args.push('-deadline', 'good', '-cpu-used', '4', '-f', 'webm');
  }
  await runFfmpeg([...rawInputArgs(width, height, fps), ...ffmpegMetadataArgs(text), ...args, temp], {
    input: feedFrames(ctx, input, `encoding ${params.format}`),
    signal: ctx.signal,
    what: `encoding ${params.format}`,
  });
  return { width, height };
}

async function encodeGif(ctx: ExecContext, set: FrameSet, frames: Uint8Array[], fps: number, params: ExportParams, text: EmbeddedText, temp: string) {
  // A palette from the clip's own colours, and no dithering at top quality: flat tiny-world
  // colours dither into noise otherwise.
  const dither = params.quality >= 100 ? 'none' : 'sierra2_4a';
  const loop = params.loop === 0 ? 0 : params.loop === 1 ? -1 : params.loop - 1;
  const raw = await runFfmpeg(
    [
      ...rawInputArgs(set.width, set.height, fps),
      '-filter_complex', `[0:v]split[a][b];[a]palettegen=stats_mode=full:reserve_transparent=0[p];[b][p]paletteuse=dither=${dither}`,
      '-loop', String(loop),
      '-f', 'gif', 'pipe:1',
    ],
    { input: feedFrames(ctx, frames, 'encoding gif'), signal: ctx.signal, what: 'encoding gif' },
  );
  await writeFile(temp, addGifComment(setGifFrameDelays(raw, fps), text.envelope));
  return { width: set.width, height: set.height };
}

async function encodePngZip(ctx: ExecContext, set: FrameSet, frames: Uint8Array[], fps: number, text: EmbeddedText, temp: string) {
  const digits = Math.max(5, String(frames.length).length);
  const entries: ZipEntry[] = [];
  if (frames.length === 1) {
    // A still (e.g. from load-image) is one PNG, not an archive of one.
    const png = await encodePng(frames[0]!, set.width, set.height);
    await writeFile(temp, addPngText(png, { workflow: text.workflow, seed: text.seed, fps: String(fps) }));
    return { width: set.width, height: set.height };
  }
  for (let i = 0; i < frames.length; i++) {
    ctx.throwIfAborted();
    const png = await encodePng(frames[i]!, set.width, set.height);
    const name = `frame_${String(i + 1).padStart(digits, '0')}.png`;
    entries.push({ name, data: addPngText(png, { workflow: text.workflow, seed: text.seed, fps: String(fps) }) });
    ctx.progress(i + 1, frames.length, 'encoding png frames');
  }
  const index = { width: set.width, height: set.height, fps, frames: entries.map((e) => e.name) };
  entries.push({ name: 'frames.json', data: Buffer.from(`${canonicalJson(index)}\n`, 'utf8'), compress: true });
  const comment = text.envelope.length <= 0xffff ? text.envelope : '';
  await writeFile(temp, writeZip(entries, comment));
  return { width: set.width, height: set.height };
}

/** Links `temp` to the first free name `<base>.<ext>`, `<base>-2.<ext>`, ...; never overwrites. */
async function publish(temp: string, dir: string, base: string, ext: string): Promise<string> {
  for (let n = 1; n < 1000; n++) {
    const name = n === 1 ? `${base}.${ext}` : `${base}-${n}.${ext}`;
    // The params schema already allows only plain names; this guards direct callers too.
    if (!SAFE_NAME.test(name)) throw new Error(`params.filename: "${base}" is not a plain file name`);
    try {
      await link(temp, path.join(dir, name));
      return name;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`params.filename: too many files named "${base}" in the output folder`);
}

/** Writes frames to a file as the export node does; exported for the CLI and tests. */
export async function exportFrames(ctx: ExecContext, input: FrameSet, params: ExportParams): Promise<OutputFile> {
  const set = assertFrameSet(input, 'export');
  const fps = params.fps > 0 ? params.fps : set.fps > 0 ? set.fps : 8;
  const frames = arrangeFrames(set.frames, params);
  const { ext, mime } = params.format === 'png' && frames.length === 1 ? { ext: 'png', mime: 'image/png' } : FORMAT_INFO[params.format];
  const text = embeddedText(ctx.workflow, ctx.seed);
  await mkdir(ctx.outputDir, { recursive: true });
  const temp = path.join(ctx.outputDir, `.${params.filename}.${randomUUID()}.part.${ext}`);
  try {
    let size: Encoded;
    if (params.format === 'gif') size = await encodeGif(ctx, set, frames, fps, params, text, temp);
    else if (params.format === 'png') size = await encodePngZip(ctx, set, frames, fps, text, temp);
    else size = await encodeVideo(ctx, set, frames, fps, params, text, temp);
    ctx.throwIfAborted();
    const name = await publish(temp, ctx.outputDir, params.filename, ext);
    const file = path.join(ctx.outputDir, name);
    return { name, path: file, mime, bytes: (await stat(file)).size, frames: frames.length, width: size.width, height: size.height, fps };
  } finally {
    await rm(temp, { force: true });
  }
}

export const exportNode = defineNode({
  type: 'export',
  version: 1,
  title: 'Export',
  category: 'output',
  description: 'Writes the frames as mp4, webm, gif or png frames (zip), with the workflow and seed embedded so the file reopens as this graph.',
  inputs: { frames: { kind: 'frames', label: 'frames' } },
  outputs: { file: { kind: 'file', label: 'file' } },
  params: exportParams,
  // The file lives in this job's output folder; a cached result would point at another job's.
  volatile: true,
  async execute(ctx, inputs, params) {
    return { file: await exportFrames(ctx, inputs.frames, params) };
  },
});
