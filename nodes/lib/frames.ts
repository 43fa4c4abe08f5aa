/**
 * Conversions between the engine's frames (RGB bytes) and model tensors (float32 NCHW
 * in [-1, 1]), and resizing with sharp. Every node that feeds pixels to a model uses
 * these, so the value range convention lives in one place.
 */
import sharp from 'sharp';
import type { FrameSet } from '../core/values';

/** Packs frames into one float32 tensor [N, 3, H, W] in [-1, 1]. */
export function framesToTensor(frames: readonly Uint8Array[], width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(frames.length * 3 * plane);
  frames.forEach((frame, n) => {
    const base = n * 3 * plane;
    for (let i = 0; i < plane; i++) {
      out[base + i] = frame[i * 3]! / 127.5 - 1;
      out[base + plane + i] = frame[i * 3 + 1]! / 127.5 - 1;
      out[base + 2 * plane + i] = frame[i * 3 + 2]! / 127.5 - 1;
    }
  });
  return out;
}

/** Unpacks frame `n` of a float32 [N, 3, H, W] tensor in [-1, 1] into RGB bytes. */
export function tensorToFrame(tensor: Float32Array, n: number, width: number, height: number): Uint8Array {
  const plane = width * height;
  const base = n * 3 * plane;
  const out = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.round((tensor[base + c * plane + i]! + 1) * 127.5);
      out[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

export function tensorToFrames(tensor: Float32Array, count: number, width: number, height: number): Uint8Array[] {
  return Array.from({ length: count }, (_, n) => tensorToFrame(tensor, n, width, height));
}

export type FitMode = 'cover' | 'contain' | 'fill';

export async function resizeFrame(
  frame: Uint8Array,
  width: number,
  height: number,
  toWidth: number,
  toHeight: number,
  fit: FitMode = 'fill',
  kernel: 'lanczos3' | 'nearest' | 'cubic' = 'lanczos3',
): Promise<Uint8Array> {
  if (width === toWidth && height === toHeight) return frame;
  const { data } = await sharp(frame, { raw: { width, height, channels: 3 } })
    .resize(toWidth, toHeight, { fit, kernel, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export async function resizeFrames(set: FrameSet, toWidth: number, toHeight: number, fit: FitMode = 'fill'): Promise<FrameSet> {
  if (set.width === toWidth && set.height === toHeight) return set;
  const frames = await Promise.all(set.frames.map((f) => resizeFrame(f, set.width, set.height, toWidth, toHeight, fit)));
  return { width: toWidth, height: toHeight, fps: set.fps, frames };
}

export async function encodePng(frame: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const buffer = await sharp(frame, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 3 }).toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export async function encodeJpeg(frame: Uint8Array, width: number, height: number, quality = 85): Promise<Uint8Array> {
  const buffer = await sharp(frame, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Decodes any image sharp reads into RGB bytes. */
export async function decodeImage(bytes: Uint8Array | string): Promise<{ frame: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { frame: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

export function assertFrameSet(set: FrameSet | undefined, what: string): FrameSet {
  if (!set || set.frames.length === 0) throw new Error(`${what}: no frames`);
  return set;
}

/** [N, C, H, W] per-frame tensors (latents or pixels) into frames 0..N-1 of a [C, F, H, W] video. */
export function toVideoLayout(perFrame: Float32Array, n: number, C: number, plane: number, F: number, target: Float32Array): void {
  for (let f = 0; f < n; f++) {
    for (let c = 0; c < C; c++) target.set(perFrame.subarray((f * C + c) * plane, (f * C + c + 1) * plane), (c * F + f) * plane);
  }
}

/** The inverse of toVideoLayout: a [C, F, H, W] video into [F, C, H, W] per-frame tensors. */
export function fromVideoLayout(video: Float32Array, C: number, plane: number, F: number): Float32Array {
  const perFrame = new Float32Array(video.length);
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) perFrame.set(video.subarray((c * F + f) * plane, (c * F + f + 1) * plane), (f * C + c) * plane);
  }
  return perFrame;
}
