import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../nodes/lib/frames';
import { encodePngSync } from '../../nodes/lib/png';

describe('encodePngSync (the previews of small frames)', () => {
  it('decodes, with sharp, to exactly the frame it was given', async () => {
    const width = 64;
    const height = 48;
    const frame = new Uint8Array(width * height * 3);
    for (let i = 0; i < frame.length; i++) frame[i] = (i * 7 + (i >> 5)) & 0xff;
    const decoded = await decodeImage(encodePngSync(frame, width, height));
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    expect(Buffer.from(decoded.frame).equals(Buffer.from(frame))).toBe(true);
  });

  it('keeps a flat 64x64 keyframe small', () => {
    const frame = new Uint8Array(64 * 64 * 3).fill(200);
    expect(encodePngSync(frame, 64, 64).length).toBeLessThan(1024);
  });
});
