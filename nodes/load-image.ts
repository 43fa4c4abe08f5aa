/**
 * Load image: a still from an upload or an allowed folder, decoded with sharp (EXIF
 * rotation applied, transparency flattened onto black) and fitted to the size the model
 * works at. Its output feeds keyframes' init (animate) or encode-image (variations).
 */
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { z } from 'zod';
import { defineNode, type ExecContext } from './core/definition';
import type { FrameSet } from './core/values';
import { checkInputFile, fileFingerprint, fitParam, inputPathParam, sizeParam, targetSize } from './lib/input-file';

export const MAX_IMAGE_BYTES = 50 * 1024 * 1024;
/** Decoding a huge image costs memory before any resize; refuse it instead. */
export const MAX_IMAGE_PIXELS = 40_000_000;

export const loadImageParams = z.object({
  path: inputPathParam('image', 'red-circle.png'),
  width: sizeParam('Width'),
  height: sizeParam('Height'),
  fit: fitParam,
});
export type LoadImageParams = z.infer<typeof loadImageParams>;

export async function loadImage(ctx: Pick<ExecContext, 'resolveInputPath'>, params: LoadImageParams): Promise<FrameSet> {
  const { file } = await checkInputFile(ctx, params.path, MAX_IMAGE_BYTES, 'an image');
  const name = path.basename(file);
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch {
    throw new Error(`params.path: "${name}" is not an image (png, jpeg, webp, gif, tiff, avif or svg)`);
  }
  if (!meta.width || !meta.height) throw new Error(`params.path: "${name}" has no readable image size`);
  if (meta.width * meta.height > MAX_IMAGE_PIXELS) {
    throw new Error(`params.path: "${name}" is ${meta.width}x${meta.height}, more than the ${MAX_IMAGE_PIXELS / 1e6} megapixels allowed`);
  }
  const { width, height } = targetSize(meta.width, meta.height, params.width, params.height);
  try {
    const { data, info } = await sharp(file, { limitInputPixels: MAX_IMAGE_PIXELS })
      .rotate()
      .flatten({ background: '#000000' })
      .resize(width, height, { fit: params.fit, kernel: 'lanczos3', background: { r: 0, g: 0, b: 0 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, fps: 8, frames: [new Uint8Array(data.buffer, data.byteOffset, data.byteLength)] };
  } catch (error) {
    throw new Error(`params.path: "${name}" could not be decoded (${error instanceof Error ? error.message : String(error)}})`);
  }
}

export const loadImageNode = defineNode({
  type: 'load-image',
  version: 1,
  title: 'Load image',
  category: 'image',
  description: 'A still image from an upload or an allowed folder, fitted to a size (cover, contain or fill).',
  inputs: {},
  outputs: { image: { kind: 'image', label: 'image' } },
  params: loadImageParams,
  fingerprint: (params, ctx) => fileFingerprint(ctx, params.path),
  async execute(ctx, _inputs, params) {
    return { image: await loadImage(ctx, params) };
  },
});
