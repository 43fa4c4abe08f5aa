import { describe, expect, it } from 'vitest';
import { analyzeVideo, judge, videoFromPixels } from './analyze';
import { createRandom } from './random';
import { drawFrame, placePolygon, renderClip } from './render';
import { SHAPE_POLYGONS } from './shapes';
import { OBJECT_COLOURS, BACKGROUND_COLOURS, type ClipAttributes } from './vocabulary';
import { drawAttributes } from './write-dataset';

const ATTRIBUTE_KEYS = ['colour', 'background', 'shape', 'size', 'motion'] as const;

/** Per-attribute accuracy of the analyzer on the renderer's own clips. */
export function analyzerAccuracy(resolution: number, clips: number, seed: number): Record<string, number> {
  const random = createRandom(seed);
  const correct: Record<string, number> = { colour: 0, background: 0, shape: 0, size: 0, motion: 0, singleObject: 0 };
  for (let index = 0; index < clips; index++) {
    const attributes = drawAttributes(random);
    const analysis = analyzeVideo(videoFromPixels(renderClip(attributes, random.integer(0, 2 ** 31), { width: resolution }), resolution));
    const measured: Partial<ClipAttributes> = {
      colour: analysis.colour?.name,
      background: analysis.background.name,
      shape: analysis.shape.name ?? undefined,
      size: analysis.size.name ?? undefined,
      motion: analysis.motion.name ?? undefined,
    };
    for (const key of ATTRIBUTE_KEYS) if (measured[key] === attributes[key]) correct[key]! += 1;
    if (analysis.singleObject.pass) correct.singleObject! += 1;
  }
  return Object.fromEntries(Object.entries(correct).map(([key, count]) => [key, count / clips]));
}

describe('analyzer on rendered clips', () => {
  for (const resolution of [64, 128, 256]) {
    it(`recognises every attribute at ${resolution} pixels`, () => {
      const accuracy = analyzerAccuracy(resolution, 100, resolution);
      for (const value of Object.values(accuracy)) expect(value, JSON.stringify(accuracy)).toBeGreaterThanOrEqual(0.99);
    });
  }
});

describe('judge', () => {
  const attributes: ClipAttributes = { colour: 'green', background: 'sand', shape: 'heart', size: 'medium', motion: 'up' };
  const pixels = renderClip(attributes, 11);

  it('passes the prompt the clip was rendered for and only checks named attributes', () => {
    const judgement = judge(videoFromPixels(pixels, 64), attributes);
    expect(judgement.pass).toBe(true);
    expect(Object.keys(judgement.verdicts).sort()).toEqual(['background', 'colour', 'motion', 'shape', 'singleObject', 'size']);
    expect(Object.keys(judge(videoFromPixels(pixels, 64), { shape: 'heart' }).verdicts).sort()).toEqual(['shape', 'singleObject']);
  });

  it('fails wrong attributes and says what it measured', () => {
    const judgement = judge(videoFromPixels(pixels, 64), { colour: 'red', shape: 'star', motion: 'down', background: 'white', size: 'big' });
    expect(judgement.pass).toBe(false);
    for (const key of ATTRIBUTE_KEYS) {
      expect(judgement.verdicts[key]?.pass).toBe(false);
      expect(judgement.verdicts[key]?.measured).toBe(attributes[key]);
    }
    expect(judgement.verdicts.singleObject.pass).toBe(true);
  });

  it('judges keyframes only (8 frames) without calling a fast hop a jump', () => {
    const bouncing = { ...attributes, motion: 'bouncing' as const };
    const keyframes = videoFromPixels(renderClip(bouncing, 5, { frames: 8 }), 64);
    expect(judge(keyframes, bouncing).pass).toBe(true);
  });

  it('fails a second object and a vanishing object', () => {
    const doubled = renderClip(attributes, 11);
    const frameBytes = 64 * 64 * 3;
    // A second, small square in frame 5 only: both a second blob and flicker.
    const extra = renderClip({ ...attributes, shape: 'square', size: 'small', motion: 'still' }, 3, { frames: 1 });
    const background = BACKGROUND_COLOURS.sand;
    for (let p = 0; p < frameBytes; p += 3) {
      const differs = extra[p] !== background[0] || extra[p + 1] !== background[1] || extra[p + 2] !== background[2];
      if (differs) doubled.set(extra.subarray(p, p + 3), 5 * frameBytes + p);
    }
    const second = judge(videoFromPixels(doubled, 64), {});
    expect(second.pass).toBe(false);
    expect(second.verdicts.singleObject.detail).toContain('more than one blob in 1 frame');

    const vanishing = renderClip(attributes, 11);
    drawFrame(vanishing, 7 * frameBytes, 64, 64, placePolygon(SHAPE_POLYGONS.heart, { centreX: -1, centreY: -1, extent: 0.01 }, 64, 64), OBJECT_COLOURS.green, background);
    const gone = judge(videoFromPixels(vanishing, 64), {});
    expect(gone.pass).toBe(false);
    expect(gone.verdicts.singleObject.detail).toContain('no object in 1 frame');
  });
});
