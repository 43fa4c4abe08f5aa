/**
 * What load-image and load-video share: the path param, confinement to the allowed
 * folders, size limits checked before any decoder sees the file, and a content hash for
 * the cache key (a path alone would keep serving a stale result after the file changed).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ExecContext } from '../core/definition';

export const inputPathParam = (what: string, example: string) =>
  z
    .string()
    .min(1)
    .max(1000)
    .default(example)
    .describe(`The ${what} file: an upload, or a path inside the allowed input folders`)
    .meta({ widget: 'path', label: 'File' });

export const fitParam = z
  .enum(['cover', 'contain', 'fill'])
  .default('cover')
  .describe('cover: fill the size, cropping the overflow; contain: fit inside, black bars; fill: stretch')
  .meta({ widget: 'select', label: 'Fit' });

export const sizeParam = (label: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(4096)
    .default(64)
    .describe(`Output ${label.toLowerCase()} in pixels (0 keeps the file’s)`)
    .meta({ widget: 'number', label, step: 8 });

export interface CheckedFile {
  file: string;
  bytes: number;
}

/** Resolves and checks a user-given input file, or throws a message naming the field. */
export async function checkInputFile(
  ctx: Pick<ExecContext, 'resolveInputPath'>,
  userPath: string,
  maxBytes: number,
  what: string,
): Promise<CheckedFile> {
  const file = ctx.resolveInputPath(userPath, 'params.path');
  const info = await stat(file);
  if (!info.isFile()) throw new Error(`params.path: "${userPath}" is not a file`);
  if (info.size === 0) throw new Error(`params.path: "${path.basename(file)}" is empty, not ${what}`);
  if (info.size > maxBytes) {
    throw new Error(`params.path: "${path.basename(file)}" is ${megabytes(info.size)}, larger than the ${megabytes(maxBytes)} allowed for ${what}`);
  }
  return { file, bytes: info.size };
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** sha256 of the file's bytes, streamed. */
export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The fingerprint both loaders give the cache: the content hash of the resolved file. */
export async function fileFingerprint(ctx: Pick<ExecContext, 'resolveInputPath'>, userPath: string): Promise<string> {
  return `sha256:${await hashFile(ctx.resolveInputPath(userPath, 'params.path'))}`;
}

/** The output size: 0 keeps the source's; one side 0 follows the other at the source's aspect. */
export function targetSize(sourceWidth: number, sourceHeight: number, width: number, height: number): { width: number; height: number } {
  if (width && height) return { width, height };
  if (width) return { width, height: Math.max(1, Math.round((sourceHeight * width) / sourceWidth)) };
  if (height) return { width: Math.max(1, Math.round((sourceWidth * height) / sourceHeight)), height };
  return { width: sourceWidth, height: sourceHeight };
}
