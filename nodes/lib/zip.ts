/**
 * A minimal ZIP writer and reader for the png-frames export: one file a user can
 * download and open on any system. PNG entries are stored, not deflated, because PNG
 * data is already compressed; the reader also inflates (with a size cap), so a zip
 * re-packed by another tool still opens and a zip bomb does not.
 */
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
  /** Deflate this entry (text compresses; PNG data does not, so it is stored). */
  compress?: boolean;
}

const DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1;

export function writeZip(entries: readonly ZipEntry[], comment = ''): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const crc = crc32(entry.data);
    const size = entry.data.byteLength;
    const stored = entry.compress ? deflateRawSync(entry.data) : entry.data;
    const method = entry.compress ? 8 : 0;
    const packed = stored.byteLength;
    if (size >= 0xffffffff || offset >= 0xffffffff) throw new Error('zip: archives over 4 GB are not supported');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(DOS_DATE_1980, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength));

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE_1980, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + packed;
  }
  const centralSize = centrals.reduce((s, b) => s + b.length, 0);
  const commentBytes = Buffer.from(comment, 'utf8').subarray(0, 0xffff);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(commentBytes.length, 20);
  return Buffer.concat([...locals, ...centrals, end, commentBytes]);
}

export interface ReadZipOptions {
  /** Only entries whose name passes are extracted (the others are not even inflated). */
  accept?: (name: string) => boolean;
  /** Largest size one entry may inflate to: a zip bomb stops here. */
  maxEntryBytes?: number;
}

/** Reads the entries of a zip (stored or deflated) through its central directory. */
export function readZip(bytes: Uint8Array, options: ReadZipOptions = {}): ZipEntry[] {
  const maxEntryBytes = options.maxEntryBytes ?? 256 * 1024 * 1024;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let endAt = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      endAt = i;
      break;
    }
  }
  if (endAt < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = buf.readUInt16LE(endAt + 10);
  let at = buf.readUInt32LE(endAt + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== 0x02014b50) throw new Error('zip: damaged central directory');
    const method = buf.readUInt16LE(at + 10);
    const compressed = buf.readUInt32LE(at + 20);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const localAt = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (options.accept && !options.accept(name)) continue;
    if (localAt + 30 > buf.length || buf.readUInt32LE(localAt) !== 0x04034b50) throw new Error(`zip: damaged entry ${name}`);
    const dataAt = localAt + 30 + buf.readUInt16LE(localAt + 26) + buf.readUInt16LE(localAt + 28);
    const raw = buf.subarray(dataAt, dataAt + compressed);
    if (method === 0) entries.push({ name, data: new Uint8Array(raw) });
    else if (method === 8) {
      try {
        entries.push({ name, data: new Uint8Array(inflateRawSync(raw, { maxOutputLength: maxEntryBytes })) });
      } catch (error) {
        throw new Error(`zip: entry ${name} cannot be inflated (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    else throw new Error(`zip: entry ${name} uses compression method ${method}, which is not supported`);
  }
  return entries;
}
