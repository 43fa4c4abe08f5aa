import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCaption } from './captions';
import { HELD_OUT, heldOutKey } from './heldout';
import { renderClip } from './render';
import { VOCABULARY, type ClipAttributes } from './vocabulary';
import { DatasetMetaSchema, writeDataset } from './write-dataset';

const CLIPS = 300;
const folder = mkdtempSync(join(tmpdir(), 'tiny-world-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('write-dataset', () => {
  const written = writeDataset({ clips: CLIPS, seed: 4, out: folder, captionsPerClip: 8 });
  const meta = DatasetMetaSchema.parse(JSON.parse(readFileSync(join(folder, 'meta.json'), 'utf8')));

  it('writes the files of CONTRACT.md with their exact sizes, READY last', () => {
    expect(meta).toEqual(written);
    expect(meta).toMatchObject({ clips: CLIPS, frames: 29, height: 64, width: 64, captionsPerClip: 8, maxTokens: 16 });
    expect(meta.vocabulary).toEqual(VOCABULARY);
    expect(statSync(join(folder, 'clips.u8')).size).toBe(CLIPS * 29 * 64 * 64 * 3);
    expect(statSync(join(folder, 'tokens_full.i32')).size).toBe(CLIPS * 8 * 16 * 4);
    expect(statSync(join(folder, 'tokens_static.i32')).size).toBe(CLIPS * 8 * 16 * 4);
    expect(readFileSync(join(folder, 'READY'), 'utf8')).toBe(`DATASET READY ${folder}\n`);
    expect(statSync(join(folder, 'READY')).mtimeMs).toBeGreaterThanOrEqual(statSync(join(folder, 'meta.json')).mtimeMs);
  });

  it('never renders a held-out combination', () => {
    expect(meta.heldOut).toEqual(HELD_OUT);
    const heldOut = new Set(HELD_OUT.map(heldOutKey));
    const leaked = meta.attributes.filter((attributes) => heldOut.has(heldOutKey(attributes as ClipAttributes)));
    expect(leaked).toEqual([]);
  });

  it('stores clips and captions that match their attributes', () => {
    const clips = readFileSync(join(folder, 'clips.u8'));
    const clipBytes = 29 * 64 * 64 * 3;
    for (const index of [0, CLIPS - 1]) {
      const attributes = meta.attributes[index]!;
      const expected = Buffer.from(renderClip(attributes as ClipAttributes, attributes.seed));
      expect(clips.subarray(index * clipBytes, (index + 1) * clipBytes).equals(expected)).toBe(true);
    }
    const mismatches: string[] = [];
    for (const file of ['tokens_full.i32', 'tokens_static.i32']) {
      const bytes = readFileSync(join(folder, file));
      const tokens = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      for (let clip = 0; clip < CLIPS; clip++) {
        for (let variant = 0; variant < 8; variant++) {
          const ids = Array.from(tokens.subarray((clip * 8 + variant) * 16, (clip * 8 + variant + 1) * 16));
          const caption = ids.filter((id) => id !== 0).map((id) => VOCABULARY[id]).join(' ');
          const parsed = parseCaption(caption);
          if (!parsed.ok) {
            mismatches.push(`${file} clip ${clip}: "${caption}" ${parsed.message}`);
            continue;
          }
          const truth = meta.attributes[clip]!;
          for (const [key, value] of Object.entries(parsed.attributes)) {
            if (truth[key as keyof ClipAttributes] !== value) mismatches.push(`${file} clip ${clip}: "${caption}" names ${key} ${value}`);
          }
          if (file === 'tokens_static.i32' && parsed.attributes.motion !== undefined) mismatches.push(`static "${caption}" names a motion`);
        }
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});
