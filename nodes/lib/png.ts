/**
 * The few PNG bytes we write ourselves: chunks (media-metadata.ts adds the workflow's tEXt
 * chunks to exported PNGs) and a synchronous RGB encoder for the editor's small previews.
 */
import { crc32, deflateSync } from 'node:zlib';

export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.byteLength, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(Buffer.from(type, 'latin1'))) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * An RGB frame as a PNG, on the calling thread. For previews: a model's run blocks the
 * event loop for a whole sampling step, so a preview handed to sharp's worker threads is
 * sent one step late; a 64x64 frame deflates here in well under a millisecond.
 */
export function encodePngSync(frame: Uint8Array, width: number, height: number): Uint8Array {
  const row = width * 3;
  const raw = new Uint8Array((row + 1) * height); // filter byte 0 (none) before every row
  for (let y = 0; y < height; y++) raw.set(frame.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // colour type: RGB
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(raw, { level: 1 })), pngChunk('IEND', new Uint8Array(0))]);
}
