import { describe, expect, it } from 'vitest';
import { CLIP_FRAMES, planClip, renderClip } from './render';
import { createRandom } from './random';
import { MOTIONS, SHAPES, SIZES, type ClipAttributes } from './vocabulary';

const attributes: ClipAttributes = { colour: 'pink', background: 'navy', shape: 'star', size: 'big', motion: 'left' };

describe('render', () => {
  it('is deterministic by seed', () => {
    const first = renderClip(attributes, 42);
    expect(first).toHaveLength(CLIP_FRAMES * 64 * 64 * 3);
    expect(Buffer.from(renderClip(attributes, 42)).equals(Buffer.from(first))).toBe(true);
    expect(Buffer.from(renderClip(attributes, 43)).equals(Buffer.from(first))).toBe(false);
  });

  it('anti-aliases: edge pixels lie between object and background colours', () => {
    const frame = renderClip(attributes, 1, { frames: 1 });
    const greens = new Set<number>();
    for (let p = 1; p < frame.length; p += 3) greens.add(frame[p]!);
    // navy green 28, pink green 120; partial coverage gives values in between.
    expect([...greens].filter((g) => g > 28 && g < 120).length).toBeGreaterThan(5);
  });

  it('plans motions as the world defines them, inside the frame', () => {
    const random = createRandom(3);
    for (const motion of MOTIONS) {
      for (const size of SIZES) {
        for (let repeat = 0; repeat < 20; repeat++) {
          const plan = planClip({ ...attributes, shape: random.pick(SHAPES), size, motion }, random.integer(0, 1e9));
          const [first, last] = [plan.frames[0]!, plan.frames[CLIP_FRAMES - 1]!];
          for (const frame of plan.frames) {
            expect(frame.centreX - frame.extent / 2).toBeGreaterThanOrEqual(0);
            expect(frame.centreX + frame.extent / 2).toBeLessThanOrEqual(1);
            expect(frame.centreY - frame.extent / 2).toBeGreaterThanOrEqual(0);
            expect(frame.centreY + frame.extent / 2).toBeLessThanOrEqual(1);
          }
          const dx = last.centreX - first.centreX;
          const dy = last.centreY - first.centreY;
          const areaRatio = (last.extent / first.extent) ** 2;
          if (motion === 'left') expect(dx).toBeLessThanOrEqual(-0.45);
          if (motion === 'right') expect(dx).toBeGreaterThanOrEqual(0.45);
          if (motion === 'up') expect(dy).toBeLessThanOrEqual(-0.45);
          if (motion === 'down') expect(dy).toBeGreaterThanOrEqual(0.45);
          if (motion === 'growing') expect(areaRatio).toBeCloseTo(2.5);
          if (motion === 'shrinking') expect(areaRatio).toBeCloseTo(0.4);
          if (motion === 'bouncing') {
            const highest = Math.min(...plan.frames.map((frame) => frame.centreY));
            expect(first.centreY - highest).toBeGreaterThanOrEqual(0.25);
            expect(last.centreY - highest).toBeGreaterThanOrEqual(0.25);
          }
          if (motion === 'still' || motion === 'bouncing' || motion === 'growing' || motion === 'shrinking') expect(dx).toBe(0);
        }
      }
    }
  });

  it('draws the same scene at any resolution', () => {
    const small = renderClip(attributes, 9, { width: 64, frames: 1 });
    const large = renderClip(attributes, 9, { width: 256, frames: 1 });
    // Average the 256 frame down 4x4 and compare with the 64 frame.
    let worst = 0;
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) sum += large[((y * 4 + dy) * 256 + x * 4 + dx) * 3 + c]!;
          worst = Math.max(worst, Math.abs(sum / 16 - small[(y * 64 + x) * 3 + c]!));
        }
      }
    }
    expect(worst).toBeLessThan(40);
  });
});
