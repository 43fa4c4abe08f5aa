/**
 * ffmpeg and ffprobe, from the npm installer packages so nothing depends on what the
 * machine happens to have. We spawn the binaries ourselves (not fluent-ffmpeg) because
 * frames go in and out as raw RGB over pipes, and a cancelled job must kill the process
 * at once rather than wait for it.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { z } from 'zod';

const require = createRequire(import.meta.url);

function installerPath(pkg: string, envName: string): string {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  return (require(pkg) as { path: string }).path;
}

/** Paths to the binaries; FFMPEG_PATH / FFPROBE_PATH override them (e.g. a system build with NVENC). */
export const ffmpegPath = installerPath('@ffmpeg-installer/ffmpeg', 'FFMPEG_PATH');
export const ffprobePath = installerPath('@ffprobe-installer/ffprobe', 'FFPROBE_PATH');

export class FfmpegError extends Error {
  override name = 'FfmpegError';
}

export interface RunOptions {
  /** Written to the process's stdin, chunk by chunk (backpressure respected), then closed. */
  input?: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /** Receives stdout as it arrives; without it stdout is collected and returned. */
  onStdout?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  /** What the command is doing, for error messages. */
  what: string;
}

function abortError(): Error {
  const error = new Error('the operation was cancelled');
  error.name = 'AbortError';
  return error;
}

/** Keeps only the tail of stderr: ffmpeg's useful error is its last lines. */
function tail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

export function runBinary(binary: string, args: readonly string[], options: RunOptions): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(abortError());
      return;
    }
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    let settled = false;
    const finish = (error: Error | null, value?: Buffer) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value!);
    };
    const onAbort = () => {
      child.kill('SIGKILL');
      finish(abortError());
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      if (options.onStdout) {
        try {
          options.onStdout(chunk);
        } catch (error) {
          child.kill('SIGKILL');
          finish(error instanceof Error ? error : new Error(String(error)));
        }
      } else chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
    });
    child.on('error', (error) => finish(new FfmpegError(`${options.what}: could not start ${binary}: ${error.message}`)));
    child.on('close', (code, sig) => {
      if (code === 0) finish(null, Buffer.concat(chunks));
      else finish(new FfmpegError(`${options.what} failed (${sig ?? `exit ${code}`}): ${tail(stderr) || 'no output'}`));
    });
    // A process that exits early (bad input) closes stdin; the close handler reports why.
    child.stdin.on('error', () => {});

    if (!options.input) {
      child.stdin.end();
      return;
    }
    const input = options.input;
    void (async () => {
      try {
        for await (const chunk of input as AsyncIterable<Uint8Array>) {
          if (settled) return;
          if (!child.stdin.write(chunk)) {
            await new Promise<void>((ok) => {
              const done = () => {
                child.stdin.off('drain', done);
                child.stdin.off('close', done);
                ok();
              };
              child.stdin.on('drain', done);
              child.stdin.on('close', done);
            });
          }
        }
        child.stdin.end();
      } catch (error) {
        child.kill('SIGKILL');
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    })();
  });
}

export function runFfmpeg(args: readonly string[], options: RunOptions): Promise<Buffer> {
  return runBinary(ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], options);
}

const ProbeSchema = z.object({
  streams: z
    .array(
      z
        .object({
          codec_type: z.string().optional(),
          codec_name: z.string().optional(),
          width: z.number().optional(),
          height: z.number().optional(),
          pix_fmt: z.string().optional(),
          r_frame_rate: z.string().optional(),
          avg_frame_rate: z.string().optional(),
          nb_frames: z.string().optional(),
          nb_read_frames: z.string().optional(),
          duration: z.string().optional(),
          tags: z.record(z.string(), z.string()).optional(),
          side_data_list: z.array(z.object({ rotation: z.number().optional() }).passthrough()).optional(),
        })
        .passthrough(),
    )
    .default([]),
  format: z
    .object({
      format_name: z.string().optional(),
      duration: z.string().optional(),
      size: z.string().optional(),
      tags: z.record(z.string(), z.string()).optional(),
    })
    .passthrough()
    .default({}),
});

export interface VideoProbe {
  formatName: string;
  codec: string;
  /** Display size: what ffmpeg decodes to, after applying a rotation (phone videos). */
  width: number;
  height: number;
  /** Degrees the player rotates the coded picture (ffmpeg does it while decoding). */
  rotation: number;
  pixFmt: string | null;
  fps: number;
  /** Exact when `countFrames` was asked for, otherwise the container's claim (may be null). */
  frames: number | null;
  durationSeconds: number | null;
  /** Container-level tags, keys as the file has them. */
  tags: Record<string, string>;
  streamTags: Record<string, string>;
}

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [num, den] = rate.split('/').map(Number);
  if (!num || !Number.isFinite(num)) return 0;
  return den ? num / den : num;
}

/** Describes a media file's first video stream; `countFrames` decodes it to count exactly. */
export async function probeVideo(file: string, options: { countFrames?: boolean; signal?: AbortSignal } = {}): Promise<VideoProbe> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams'];
  if (options.countFrames) args.push('-count_frames');
  args.push('-select_streams', 'v:0', file);
  const out = await runBinary(ffprobePath, args, { signal: options.signal, what: `reading ${file} with ffprobe` });
  let parsed: z.infer<typeof ProbeSchema>;
  try {
    parsed = ProbeSchema.parse(JSON.parse(out.toString('utf8')));
  } catch {
    throw new FfmpegError(`ffprobe gave unreadable output for ${file}`);
  }
  const video = parsed.streams.find((s) => s.codec_type === 'video');
  if (!video || !video.width || !video.height) throw new FfmpegError(`${file} has no video stream`);
  const countText = options.countFrames ? video.nb_read_frames : video.nb_frames;
  const count = countText !== undefined ? Number(countText) : NaN;
  const duration = Number(video.duration ?? parsed.format.duration);
  const avg = parseRate(video.avg_frame_rate);
  const rotation = Number(video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? video.tags?.rotate ?? 0) || 0;
  const quarterTurn = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  return {
    formatName: parsed.format.format_name ?? '',
    codec: video.codec_name ?? '',
    width: quarterTurn ? video.height : video.width,
    height: quarterTurn ? video.width : video.height,
    rotation,
    pixFmt: video.pix_fmt ?? null,
    fps: avg > 0 ? avg : parseRate(video.r_frame_rate),
    frames: Number.isFinite(count) && count > 0 ? count : null,
    durationSeconds: Number.isFinite(duration) ? duration : null,
    tags: parsed.format.tags ?? {},
    streamTags: video.tags ?? {},
  };
}

/** ffmpeg wants a rational frame rate; 23.976 and friends survive as 24000/1001-style fractions. */
export function rateArg(fps: number): string {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new FfmpegError(`frame rate must be positive, got ${fps}`);
  if (Number.isInteger(fps)) return String(fps);
  return `${Math.round(fps * 1000)}/1000`;
}

/** Frames as ffmpeg rawvideo input arguments (rgb24 on stdin). */
export function rawInputArgs(width: number, height: number, fps: number): string[] {
  return ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', rateArg(fps), '-i', 'pipe:0'];
}

/**
 * Splits a byte stream into whole frames of `frameBytes`. Returns a push function for
 * chunks; `onFrame` gets each frame as its own copy.
 */
export function frameSplitter(frameBytes: number, onFrame: (frame: Uint8Array) => void): (chunk: Buffer) => void {
  let pending = new Uint8Array(frameBytes);
  let filled = 0;
  return (chunk) => {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(frameBytes - filled, chunk.length - offset);
      pending.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === frameBytes) {
        const frame = pending;
        pending = new Uint8Array(frameBytes);
        filled = 0;
        onFrame(frame);
      }
    }
  };
}

export interface DecodeOptions {
  /** First frame to keep (0-based, in decode order). */
  start?: number;
  /** Keep every nth frame from `start`. */
  every?: number;
  /** Stop after this many kept frames. */
  maxFrames: number;
  /** An ffmpeg filter applied after selection (scaling, cropping); must end at `width` x `height`. */
  filter?: string;
  width: number;
  height: number;
  signal?: AbortSignal;
  onFrame?: (frame: Uint8Array, index: number) => void;
}

/** Decodes a video file's frames to RGB bytes, selection and resizing done inside ffmpeg. */
export async function decodeVideo(file: string, options: DecodeOptions): Promise<Uint8Array[]> {
  const start = options.start ?? 0;
  const every = options.every ?? 1;
  const filters = [`select='gte(n\\,${start})*not(mod(n-${start}\\,${every}))'`];
  if (options.filter) filters.push(options.filter);
  const frames: Uint8Array[] = [];
  const push = frameSplitter(options.width * options.height * 3, (frame) => {
    if (frames.length >= options.maxFrames) return;
    frames.push(frame);
    options.onFrame?.(frame, frames.length - 1);
  });
  await runFfmpeg(
    [
      '-i', file,
      '-an', '-sn',
      '-vf', filters.join(','),
      '-vsync', 'passthrough',
      '-frames:v', String(options.maxFrames),
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ],
    { onStdout: push, signal: options.signal, what: `decoding ${file}` },
  );
  return frames;
}
