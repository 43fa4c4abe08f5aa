/**
 * Load video: a clip from an upload or an allowed folder, decoded by ffmpeg with the
 * frame selection (start, every nth, cap) and the fit to size done inside ffmpeg, so a
 * long or large source never reaches memory at full size. Feeds keyframes' init
 * (extend, vary), interpolation or upscaling.
 */
import path from 'node:path';
import { z } from 'zod';
import { defineNode, type ExecContext } from './core/definition';
import type { FrameSet } from './core/values';
import { decodeVideo, probeVideo, type VideoProbe } from './lib/ffmpeg';
import { checkInputFile, fileFingerprint, fitParam, inputPathParam, sizeParam, targetSize, type CheckedFile } from './lib/input-file';

export const MAX_VIDEO_BYTES = 1024 * 1024 * 1024;
/** Decoded frames are kept in memory as RGB: cap the total. */
export const MAX_DECODED_BYTES = 1024 * 1024 * 1024;
export const MAX_SOURCE_PIXELS = 8192 * 8192;

export const loadVideoParams = z.object({
  path: inputPathParam('video', 'red-circle-right.mp4'),
  maxFrames: z
    .number()
    .int()
    .min(1)
    .max(2000)
    .default(29)
    .describe('At most this many frames are kept')
    .meta({ widget: 'number', label: 'Frame cap' }),
  start: z.number().int().min(0).max(1_000_000).default(0).describe('First frame to keep (0 = the first)').meta({ widget: 'number', label: 'Start frame' }),
  every: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(1)
    .describe('Keep every nth frame from the start (the frame rate divides by n)')
    .meta({ widget: 'number', label: 'Every nth' }),
  width: sizeParam('Width'),
  height: sizeParam('Height'),
  fit: fitParam,
});
export type LoadVideoParams = z.infer<typeof loadVideoParams>;

/** The ffmpeg filter fitting any source to width x height. */
export function fitFilter(width: number, height: number, fit: LoadVideoParams['fit']): string {
  const scale = `scale=${width}:${height}`;
  const flags = 'flags=lanczos';
  if (fit === 'fill') return `${scale}:${flags},setsar=1`;
  if (fit === 'contain') {
    return `${scale}:force_original_aspect_ratio=decrease:${flags},pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:black,setsar=1`;
  }
  return `${scale}:force_original_aspect_ratio=increase:${flags},crop=${width}:${height},setsar=1`;
}

async function probeInput(checked: CheckedFile, signal: AbortSignal): Promise<VideoProbe> {
  const name = path.basename(checked.file);
  try {
    return await probeVideo(checked.file, { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new Error(`params.path: "${name}" is not a video ffmpeg can read`);
  }
}

export async function loadVideo(ctx: ExecContext, params: LoadVideoParams): Promise<FrameSet> {
  const checked = await checkInputFile(ctx, params.path, MAX_VIDEO_BYTES, 'a video');
  const name = path.basename(checked.file);
  const probe = await probeInput(checked, ctx.signal);
  if (probe.width * probe.height > MAX_SOURCE_PIXELS) {
    throw new Error(`params.path: "${name}" is ${probe.width}x${probe.height}, larger than this studio decodes`);
  }
  const { width, height } = targetSize(probe.width, probe.height, params.width, params.height);
  const perFrame = width * height * 3;
  if (perFrame * params.maxFrames > MAX_DECODED_BYTES) {
    throw new Error(
      `params.maxFrames: ${params.maxFrames} frames at ${width}x${height} would take ${Math.round((perFrame * params.maxFrames) / 2 ** 20)} MB; lower the cap or the size`,
    );
  }
  const sourceFps = probe.fps > 0 && probe.fps < 1000 ? probe.fps : 8;
  const frames = await decodeVideo(checked.file, {
    start: params.start,
    every: params.every,
    maxFrames: params.maxFrames,
    filter: width === probe.width && height === probe.height ? 'setsar=1' : fitFilter(width, height, params.fit),
    width,
    height,
    signal: ctx.signal,
    onFrame: (_frame, index) => {
      if (index % 4 === 3) ctx.progress(index + 1, params.maxFrames, 'decoding');
    },
  });
  if (frames.length === 0) {
    const known = probe.frames ? ` (it has ${probe.frames})` : '';
    throw new Error(`params.start: "${name}" has no frames from frame ${params.start} on${known}`);
  }
  ctx.progress(frames.length, frames.length, 'decoded');
  const set: FrameSet = { width, height, fps: sourceFps / params.every, frames };
  ctx.preview({ ...set, frames: frames.slice(0, Math.min(8, frames.length)) }, { kind: 'frame', firstFrame: 0, count: frames.length });
  return set;
}

export const loadVideoNode = defineNode({
  type: 'load-video',
  version: 1,
  title: 'Load video',
  category: 'video',
  description: 'A video clip decoded with ffmpeg: start frame, every nth frame, a frame cap, fitted to a size.',
  inputs: {},
  outputs: { frames: { kind: 'frames', label: 'frames' } },
  params: loadVideoParams,
  fingerprint: (params, ctx) => fileFingerprint(ctx, params.path),
  async execute(ctx, _inputs, params) {
    return { frames: await loadVideo(ctx, params) };
  },
});
