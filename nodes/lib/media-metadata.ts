/**
 * The workflow travels inside every exported file, so a shared video reopens as the
 * graph that made it. Where it lives, per format:
 *   - mp4 / webm: container tags `workflow` and `seed`, and the same data again as a JSON
 *     envelope in the standard `comment` tag. The comment is what survives a plain remux
 *     or muxing in audio (ffmpeg keeps only well-known mp4 tags by default), which is how
 *     ComfyUI's video helper loses its workflow.
 *   - gif: a Comment Extension block holding the envelope.
 *   - png: tEXt chunks `workflow` and `seed` (the convention ComfyUI's PNGs use).
 *   - png-frames zip: every frame carries the tEXt chunks, and the zip comment the envelope.
 * Text is canonical JSON with every non-ASCII character \u-escaped: it fits tEXt's
 * Latin-1 and GIF's 7-bit comments, and parses back to the same value.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { z } from 'zod';
import { canonicalJson } from '../core/workflow';
import { probeVideo } from './ffmpeg';
import { PNG_SIGNATURE, pngChunk } from './png';
import { readZip } from './zip';

export const ENVELOPE_FORMAT = 'make-a-video-studio/media-metadata';

export interface MediaWorkflow {
  workflow: unknown;
  seed: number | null;
}

export class NoWorkflowError extends Error {
  override name = 'NoWorkflowError';
}

/** Canonical JSON, ASCII only. */
export function asciiJson(value: unknown): string {
  return canonicalJson(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface EmbeddedText {
  workflow: string;
  seed: string;
  /** The envelope {format, seed, workflow} as one string, for single-slot carriers. */
  envelope: string;
}

export function embeddedText(workflow: unknown, seed: number | null): EmbeddedText {
  return {
    workflow: asciiJson(workflow),
    seed: seed === null ? '' : String(seed),
    envelope: asciiJson({ format: ENVELOPE_FORMAT, seed, workflow }),
  };
}

const EnvelopeSchema = z.object({
  format: z.literal(ENVELOPE_FORMAT),
  seed: z.number().int().nullable(),
  workflow: z.unknown(),
});

function parseEnvelope(text: string): MediaWorkflow | null {
  try {
    const json = text.startsWith(COMPRESSED_PREFIX)
      ? gunzipSync(Buffer.from(text.slice(COMPRESSED_PREFIX.length), 'base64'), { maxOutputLength: MAX_TEXT_BYTES }).toString('utf8')
      : text;
    const parsed = EnvelopeSchema.safeParse(JSON.parse(json));
    if (parsed.success && parsed.data.workflow !== undefined) return { workflow: parsed.data.workflow, seed: parsed.data.seed };
  } catch {
    // Other tools write comments too; anything not our envelope is simply not ours.
  }
  return null;
}

function parseSeed(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d{1,16}$/.test(text.trim())) return null;
  return Number(text.trim());
}

function fromPair(workflowText: string | undefined, seedText: string | undefined, where: string): MediaWorkflow | null {
  if (workflowText === undefined) return null;
  try {
    return { workflow: JSON.parse(workflowText), seed: parseSeed(seedText) };
  } catch (error) {
    throw new NoWorkflowError(`${where}: the embedded workflow is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

// ---------------------------------------------------------------- ffmpeg (mp4, webm)

/** Longest single argument Linux passes to a process is 128 KiB; stay clear of it. */
const MAX_ARGUMENT_BYTES = 120_000;
const COMPRESSED_PREFIX = 'studio-gz:';

/**
 * The tags as `-metadata key=value` arguments. Not an FFMETADATA file: the bundled
 * ffmpeg reads those lines into a 1 KiB buffer and cuts longer values, which every real
 * workflow is. A workflow too big for one argument travels gzip+base64 in the comment
 * only (still read back by readWorkflowFromMedia); one too big even so is an error, never
 * a silently missing workflow.
 */
export function ffmpegMetadataArgs(text: EmbeddedText): string[] {
  const args: string[] = [];
  if (Buffer.byteLength(text.workflow) <= MAX_ARGUMENT_BYTES) args.push('-metadata', `workflow=${text.workflow}`);
  let comment = text.envelope;
  if (Buffer.byteLength(comment) > MAX_ARGUMENT_BYTES) {
    comment = COMPRESSED_PREFIX + gzipSync(Buffer.from(text.envelope, 'utf8'), { level: 9 }).toString('base64');
    if (comment.length > MAX_ARGUMENT_BYTES) {
      throw new Error(`the workflow is too large to embed in a video file (${text.envelope.length} bytes even before compression)`);
    }
  }
  args.push('-metadata', `comment=${comment}`);
  if (text.seed !== '') args.push('-metadata', `seed=${text.seed}`);
  return args;
}

function lowerKeys(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]));
}

async function readFromContainer(file: string, label: string): Promise<MediaWorkflow> {
  let probe;
  try {
    probe = await probeVideo(file);
  } catch (error) {
    throw new NoWorkflowError(`${label}: not a media file this studio can read (${error instanceof Error ? error.message : String(error)})`);
  }
  for (const tags of [lowerKeys(probe.tags), lowerKeys(probe.streamTags)]) {
    const pair = fromPair(tags.workflow, tags.seed, label);
    if (pair) return pair;
    if (tags.comment) {
      const envelope = parseEnvelope(tags.comment);
      if (envelope) return envelope;
    }
  }
  throw new NoWorkflowError(`${label}: the file carries no workflow (it was not exported by this studio, or its metadata was stripped)`);
}

// ---------------------------------------------------------------- png

/** Largest compressed text chunk inflated: a workflow is kilobytes, a bomb is gigabytes. */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Inserts tEXt chunks right after IHDR, so readers that stop at the image data see them. */
export function addPngText(png: Uint8Array, entries: Record<string, string>): Buffer {
  if (!isPng(png)) throw new Error('addPngText: not a PNG');
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const ihdrEnd = 8 + 12 + buf.readUInt32BE(8);
  const chunks = Object.entries(entries)
    .filter(([, text]) => text !== '')
    .map(([keyword, text]) => {
      if (!/^[\x20-\x7e]{1,79}$/.test(keyword)) throw new Error(`PNG text keyword "${keyword}" is not valid`);
      return pngChunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]));
    });
  return Buffer.concat([buf.subarray(0, ihdrEnd), ...chunks, buf.subarray(ihdrEnd)]);
}

/** All tEXt / zTXt / iTXt entries of a PNG, by keyword. */
export function readPngText(png: Uint8Array): Record<string, string> {
  if (!isPng(png)) throw new Error('not a PNG');
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const out: Record<string, string> = {};
  let at = 8;
  while (at + 12 <= buf.length) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === 'IEND') break;
    const nul = data.indexOf(0);
    if (nul < 0) continue;
    const keyword = data.toString('latin1', 0, nul);
    try {
      if (type === 'tEXt') out[keyword] = data.toString('latin1', nul + 1);
      else if (type === 'zTXt') out[keyword] = inflateSync(data.subarray(nul + 2), { maxOutputLength: MAX_TEXT_BYTES }).toString('latin1');
      else if (type === 'iTXt') {
        const compressed = data[nul + 1] === 1;
        const langEnd = data.indexOf(0, nul + 3);
        const transEnd = data.indexOf(0, langEnd + 1);
        const body = data.subarray(transEnd + 1);
        out[keyword] = (compressed ? inflateSync(body, { maxOutputLength: MAX_TEXT_BYTES }) : body).toString('utf8');
      }
    } catch {
      // A damaged text chunk must not hide the others.
    }
  }
  return out;
}

function readFromPng(bytes: Uint8Array, label: string): MediaWorkflow {
  const text = readPngText(bytes);
  const pair = fromPair(text.workflow, text.seed, label);
  if (pair) return pair;
  const envelope = text.comment ? parseEnvelope(text.comment) : null;
  if (envelope) return envelope;
  throw new NoWorkflowError(`${label}: the PNG carries no workflow text chunk`);
}

// ---------------------------------------------------------------- gif

function isGif(bytes: Uint8Array): boolean {
  return bytes.length >= 13 && Buffer.from(bytes.buffer, bytes.byteOffset, 6).toString('latin1').startsWith('GIF8');
}

function subBlocks(data: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const part = data.subarray(i, i + 255);
    parts.push(Buffer.from([part.length]), Buffer.from(part));
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Byte offset just after header, logical screen descriptor and global colour table. */
function gifBodyStart(buf: Buffer): number {
  const packed = buf[10]!;
  const globalTable = packed & 0x80 ? 3 * (1 << ((packed & 0x07) + 1)) : 0;
  return 13 + globalTable;
}

/** Adds a Comment Extension (GIF89a) right after the global colour table. */
export function addGifComment(gif: Uint8Array, text: string): Buffer {
  if (!isGif(gif)) throw new Error('addGifComment: not a GIF');
  const buf = Buffer.from(gif.buffer, gif.byteOffset, gif.byteLength);
  const at = gifBodyStart(buf);
  const header = Buffer.from(buf.subarray(0, at));
  header.write('GIF89a', 0, 'latin1');
  return Buffer.concat([header, Buffer.from([0x21, 0xfe]), subBlocks(Buffer.from(text, 'latin1')), buf.subarray(at)]);
}

interface GifExtension {
  label: number;
  /** Offset of the extension's first sub-block (its size byte). */
  body: number;
}

/** The extension blocks of a GIF, in order, skipping image data. */
function gifExtensions(buf: Buffer): GifExtension[] {
  const found: GifExtension[] = [];
  let at = gifBodyStart(buf);
  const skipBlocks = () => {
    while (at < buf.length) {
      const size = buf[at]!;
      at += 1 + size;
      if (size === 0) return;
    }
  };
  while (at < buf.length) {
    const introducer = buf[at]!;
    if (introducer === 0x3b) break;
    if (introducer === 0x21) {
      found.push({ label: buf[at + 1]!, body: at + 2 });
      at += 2;
      skipBlocks();
    } else if (introducer === 0x2c) {
      const packed = buf[at + 9]!;
      at += 10;
      if (packed & 0x80) at += 3 * (1 << ((packed & 0x07) + 1));
      at += 1; // LZW minimum code size
      skipBlocks();
    } else break;
  }
  return found;
}

export function readGifComments(gif: Uint8Array): string[] {
  if (!isGif(gif)) throw new Error('not a GIF');
  const buf = Buffer.from(gif.buffer, gif.byteOffset, gif.byteLength);
  return gifExtensions(buf)
    .filter((e) => e.label === 0xfe)
    .map((e) => {
      const parts: Buffer[] = [];
      for (let at = e.body; at < buf.length && buf[at]! > 0; at += 1 + buf[at]!) parts.push(buf.subarray(at + 1, at + 1 + buf[at]!));
      return Buffer.concat(parts).toString('latin1');
    });
}

/**
 * GIF delays are whole centiseconds, so 8 or 12 fps cannot be exact per frame; setting
 * frame i's delay to round((i+1)·100/fps) − round(i·100/fps) keeps the clock exact over
 * the clip (ffmpeg rounds every frame the same way, and 12 fps drifts to 12.5).
 */
export function setGifFrameDelays(gif: Uint8Array, fps: number): Buffer {
  const buf = Buffer.from(gif);
  const controls = gifExtensions(buf).filter((e) => e.label === 0xf9 && buf[e.body] === 4);
  controls.forEach((e, i) => {
    const delay = Math.round(((i + 1) * 100) / fps) - Math.round((i * 100) / fps);
    buf.writeUInt16LE(Math.max(1, Math.min(0xffff, delay)), e.body + 2);
  });
  return buf;
}

function readFromGif(bytes: Uint8Array, label: string): MediaWorkflow {
  for (const comment of readGifComments(bytes)) {
    const envelope = parseEnvelope(comment);
    if (envelope) return envelope;
  }
  throw new NoWorkflowError(`${label}: the GIF carries no workflow comment`);
}

// ---------------------------------------------------------------- zip of png frames

function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function readFromZip(bytes: Uint8Array, label: string): MediaWorkflow {
  let entries;
  try {
    entries = readZip(bytes, { accept: (name) => name.toLowerCase().endsWith('.png'), maxEntryBytes: 64 * 1024 * 1024 });
  } catch (error) {
    throw new NoWorkflowError(`${label}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const png = entries.sort((a, b) => a.name.localeCompare(b.name))[0];
  if (!png) throw new NoWorkflowError(`${label}: the zip holds no PNG frames`);
  return readFromPng(png.data, `${label} (${png.name})`);
}

// ---------------------------------------------------------------- entry point

/** Largest file read into memory to look for a workflow. */
export const MAX_MEDIA_BYTES = 512 * 1024 * 1024;

/**
 * The workflow and seed embedded in an exported file (mp4, webm, gif, png, or the zip of
 * png frames). Accepts the file's bytes (an upload) or a path (already confined by the
 * caller). Throws NoWorkflowError with a readable message when there is none.
 */
export async function readWorkflowFromMedia(bytesOrPath: Uint8Array | string): Promise<MediaWorkflow> {
  const label = typeof bytesOrPath === 'string' ? path.basename(bytesOrPath) : 'the uploaded file';
  let bytes: Uint8Array;
  if (typeof bytesOrPath === 'string') {
    try {
      bytes = await readFile(bytesOrPath);
    } catch (error) {
      throw new NoWorkflowError(`${label}: cannot read the file (${error instanceof Error ? error.message : String(error)})`);
    }
  } else bytes = bytesOrPath;
  if (bytes.byteLength === 0) throw new NoWorkflowError(`${label}: the file is empty`);
  if (bytes.byteLength > MAX_MEDIA_BYTES) throw new NoWorkflowError(`${label}: larger than ${MAX_MEDIA_BYTES} bytes`);
  if (isPng(bytes)) return readFromPng(bytes, label);
  if (isGif(bytes)) return readFromGif(bytes, label);
  if (isZip(bytes)) return readFromZip(bytes, label);
  if (typeof bytesOrPath === 'string') return readFromContainer(bytesOrPath, label);
  // ffprobe reads files; an upload goes through a private temp file that is always removed.
  const temp = path.join(os.tmpdir(), `studio-media-${randomUUID()}`);
  await writeFile(temp, bytes, { mode: 0o600 });
  try {
    return await readFromContainer(temp, label);
  } finally {
    await rm(temp, { force: true });
  }
}
