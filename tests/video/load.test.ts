import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadImage, loadImageNode, loadImageParams } from '../../nodes/load-image';
import { loadVideo, loadVideoNode, loadVideoParams } from '../../nodes/load-video';
import { ffmpegPath } from '../../nodes/lib/ffmpeg';
import { makeContext, tempDir } from './helpers';

const ASSETS = path.resolve(import.meta.dirname, '../../workflows/assets');

/** A 40-frame 32x24 clip where frame n's red channel is 5n, so selection is checkable. */
function numberedClip(dir: string, name = 'numbered.mp4', fps = 10): string {
  const file = path.join(dir, name);
  const w = 32;
  const h = 24;
  const raw = Buffer.alloc(40 * w * h * 3);
  for (let n = 0; n < 40; n++) for (let i = 0; i < w * h; i++) raw[(n * w * h + i) * 3] = 5 * n;
  const rawFile = path.join(dir, 'raw.rgb');
  writeFileSync(rawFile, raw);
  execFileSync(ffmpegPath, [
    '-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${w}x${h}`, '-framerate', String(fps), '-i', rawFile,
    '-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv444p', file,
  ]);
  return file;
}

/** The frame number encoded in a frame (RGB -> YUV -> RGB moves the value by a step or two). */
const redOf = (frame: Uint8Array) => Math.round(frame[3 * 100]! / 5);

describe('load-image', () => {
  it('decodes the example asset and fits it to the asked size', async () => {
    const ctx = makeContext({ inputRoots: [ASSETS] });
    for (const fit of ['cover', 'contain', 'fill'] as const) {
      const img = await loadImage(ctx, loadImageParams.parse({ path: 'red-circle.png', width: 48, height: 32, fit }));
      expect([img.width, img.height, img.frames.length, img.frames[0]!.length]).toEqual([48, 32, 1, 48 * 32 * 3]);
    }
    const original = await loadImage(ctx, loadImageParams.parse({ path: 'red-circle.png', width: 0, height: 0 }));
    expect([original.width, original.height]).toEqual([64, 64]);
  });

  it('contain pads with black, cover crops, fill stretches', async () => {
    const dir = tempDir();
    // 40x20 white image: contain into 20x20 leaves black bars top and bottom.
    await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ffffff' } }).png().toFile(path.join(dir, 'wide.png'));
    const ctx = makeContext({ inputRoots: [dir] });
    const contain = await loadImage(ctx, loadImageParams.parse({ path: 'wide.png', width: 20, height: 20, fit: 'contain' }));
    expect(contain.frames[0]![0]).toBe(0);
    expect(contain.frames[0]![(10 * 20 + 10) * 3]).toBe(255);
    const cover = await loadImage(ctx, loadImageParams.parse({ path: 'wide.png', width: 20, height: 20, fit: 'cover' }));
    expect(cover.frames[0]![0]).toBe(255);
    const keepAspect = await loadImage(ctx, loadImageParams.parse({ path: 'wide.png', width: 20, height: 0 }));
    expect([keepAspect.width, keepAspect.height]).toEqual([20, 10]);
  });

  it('clear errors: not an image, empty, outside the allowed folders, missing', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'notes.png'), 'this is text pretending to be a png');
    writeFileSync(path.join(dir, 'empty.png'), '');
    const ctx = makeContext({ inputRoots: [dir] });
    await expect(loadImage(ctx, loadImageParams.parse({ path: 'notes.png' }))).rejects.toThrow(/"notes.png" is not an image/);
    await expect(loadImage(ctx, loadImageParams.parse({ path: 'empty.png' }))).rejects.toThrow(/is empty/);
    await expect(loadImage(ctx, loadImageParams.parse({ path: '../../etc/passwd' }))).rejects.toThrow(/outside the allowed folders/);
    await expect(loadImage(ctx, loadImageParams.parse({ path: '/etc/passwd' }))).rejects.toThrow(/outside the allowed folders/);
    await expect(loadImage(ctx, loadImageParams.parse({ path: 'nope.png' }))).rejects.toThrow(/not found/);
    symlinkSync('/etc/hostname', path.join(dir, 'link.png'));
    await expect(loadImage(ctx, loadImageParams.parse({ path: 'link.png' }))).rejects.toThrow(/allowed folders/);
  });

  it('refuses images too large to decode safely', async () => {
    const dir = tempDir();
    // A tiny file that decodes to 10000 x 10000: the pixel limit catches it before decoding.
    await sharp({ create: { width: 10000, height: 10000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toFile(path.join(dir, 'huge.png'));
    const ctx = makeContext({ inputRoots: [dir] });
    await expect(loadImage(ctx, loadImageParams.parse({ path: 'huge.png' }))).rejects.toThrow(/10000x10000, more than the 40 megapixels/);
  });

  it('fingerprint follows the file content, so the cache sees a changed file', async () => {
    const dir = tempDir();
    copyFileSync(path.join(ASSETS, 'red-circle.png'), path.join(dir, 'a.png'));
    const ctx = makeContext({ inputRoots: [dir] });
    const p = loadImageParams.parse({ path: 'a.png' });
    const first = await loadImageNode.fingerprint!(p, ctx);
    expect(await loadImageNode.fingerprint!(p, ctx)).toBe(first);
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).png().toFile(path.join(dir, 'a.png'));
    expect(await loadImageNode.fingerprint!(p, ctx)).not.toBe(first);
  });
});

describe('load-video', () => {
  it('decodes the example clip: 29 frames, 64x64, 8 fps', async () => {
    const ctx = makeContext({ inputRoots: [ASSETS] });
    const clip = await loadVideo(ctx, loadVideoParams.parse({ path: 'red-circle-right.mp4' }));
    expect([clip.frames.length, clip.width, clip.height, clip.fps]).toEqual([29, 64, 64, 8]);
  });

  it('start, every nth and the frame cap select the right frames; fps divides', async () => {
    const dir = tempDir();
    numberedClip(dir);
    const ctx = makeContext({ inputRoots: [dir] });
    const clip = await loadVideo(ctx, loadVideoParams.parse({ path: 'numbered.mp4', start: 3, every: 4, maxFrames: 5, width: 0, height: 0 }));
    expect(clip.frames.length).toBe(5);
    expect(clip.fps).toBeCloseTo(2.5, 5);
    expect(clip.frames.map(redOf)).toEqual([3, 7, 11, 15, 19]);
    const tail = await loadVideo(ctx, loadVideoParams.parse({ path: 'numbered.mp4', start: 36, maxFrames: 100, width: 0, height: 0 }));
    expect(tail.frames.map(redOf)).toEqual([36, 37, 38, 39]);
  });

  it('resizes and crops to the asked size', async () => {
    const dir = tempDir();
    numberedClip(dir);
    const ctx = makeContext({ inputRoots: [dir] });
    for (const fit of ['cover', 'contain', 'fill'] as const) {
      const clip = await loadVideo(ctx, loadVideoParams.parse({ path: 'numbered.mp4', maxFrames: 3, width: 16, height: 16, fit }));
      expect([clip.width, clip.height, clip.frames.length, clip.frames[0]!.length]).toEqual([16, 16, 3, 16 * 16 * 3]);
    }
  });

  it('clear errors: not a video, start past the end, too much memory, outside the folders', async () => {
    const dir = tempDir();
    numberedClip(dir);
    writeFileSync(path.join(dir, 'fake.mp4'), 'definitely not a video');
    const ctx = makeContext({ inputRoots: [dir] });
    await expect(loadVideo(ctx, loadVideoParams.parse({ path: 'fake.mp4' }))).rejects.toThrow(/"fake.mp4" is not a video/);
    await expect(loadVideo(ctx, loadVideoParams.parse({ path: 'numbered.mp4', start: 500 }))).rejects.toThrow(/no frames from frame 500/);
    await expect(loadVideo(ctx, loadVideoParams.parse({ path: 'numbered.mp4', maxFrames: 2000, width: 4096, height: 4096 }))).rejects.toThrow(
      /lower the cap or the size/,
    );
    await expect(loadVideo(ctx, loadVideoParams.parse({ path: '../outside.mp4' }))).rejects.toThrow(/outside the allowed folders/);
    expect(loadVideoParams.safeParse({ every: 0 }).success).toBe(false);
    expect(loadVideoParams.safeParse({ maxFrames: 1e9 }).success).toBe(false);
    expect(loadVideoParams.safeParse({ width: -4 }).success).toBe(false);
  });

  it('a rotated phone video comes out upright at its display size', async () => {
    const dir = tempDir();
    const coded = path.join(dir, 'coded.mp4');
    execFileSync(ffmpegPath, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x16:rate=4', '-frames:v', '3', '-c:v', 'libx264', '-pix_fmt', 'yuv444p', '-qp', '0', coded]);
    // A remux sets the display matrix, as a phone held upright does.
    execFileSync(ffmpegPath, ['-v', 'error', '-y', '-i', coded, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', path.join(dir, 'rotated.mp4')]);
    const ctx = makeContext({ inputRoots: [dir] });
    const upright = await loadVideo(ctx, loadVideoParams.parse({ path: 'rotated.mp4', width: 0, height: 0 }));
    expect([upright.width, upright.height, upright.frames.length]).toEqual([16, 32, 3]);
    const flat = await loadVideo(ctx, loadVideoParams.parse({ path: 'coded.mp4', width: 0, height: 0 }));
    // The rotated frame is the coded one turned a quarter: its top row is the coded left or right column.
    const column = (f: Uint8Array, x: number) => Array.from({ length: 16 }, (_, y) => f[(y * 32 + x) * 3]!);
    const topRow = Array.from({ length: 16 }, (_, x) => upright.frames[0]![x * 3]!);
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 8);
    const candidates = [column(flat.frames[0]!, 0), column(flat.frames[0]!, 31)].flatMap((c) => [c, [...c].reverse()]);
    expect(candidates.some((c) => close(c, topRow))).toBe(true);
  });

  it('cancelling stops decoding', async () => {
    const dir = tempDir();
    numberedClip(dir);
    const ctx = makeContext({ inputRoots: [dir] });
    ctx.abort();
    await expect(loadVideo(ctx, loadVideoParams.parse({ path: 'numbered.mp4' }))).rejects.toThrow(/cancel/);
  });

  it('fingerprint changes with the content', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'sub'));
    numberedClip(path.join(dir, 'sub'), 'clip.mp4', 10);
    const ctx = makeContext({ inputRoots: [dir] });
    const p = loadVideoParams.parse({ path: 'sub/clip.mp4' });
    const first = await loadVideoNode.fingerprint!(p, ctx);
    numberedClip(path.join(dir, 'sub'), 'clip.mp4', 12);
    expect(await loadVideoNode.fingerprint!(p, ctx)).not.toBe(first);
  });
});
