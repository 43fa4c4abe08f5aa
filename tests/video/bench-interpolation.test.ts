import { describe, expect, it } from 'vitest';
import { benchInterpolation, groundTruthClips, measureMethod } from '../../bench/interpolation';
import { ModelRuntime } from '../../server/runtime/models';
import { tempDir } from './helpers';
import { writeBlendInterpolatorPack } from './tiny-onnx';

describe('interpolation bench', () => {
  it('ground truth: keyframes are every 4th frame of a 29-frame clip', () => {
    const clips = groundTruthClips();
    expect(clips.length).toBeGreaterThanOrEqual(8);
    for (const c of clips) {
      expect(c.full.length).toBe(29);
      expect(c.keyframes.frames.length).toBe(8);
      expect(Buffer.from(c.keyframes.frames[7]!).equals(Buffer.from(c.full[28]!))).toBe(true);
    }
  });

  it('learned with a blend network scores as the blend does; rows carry name, value, unit', async () => {
    const modelsDir = tempDir('bench-models-');
    writeBlendInterpolatorPack(modelsDir, 'bench-pack');
    const models = new ModelRuntime(modelsDir, 'cpu', 1);
    const clips = groundTruthClips().slice(0, 2);
    const learned = await measureMethod('learned', clips, models, 'bench-pack');
    const blend = await measureMethod('blend', clips, models, 'bench-pack');
    expect(Math.abs(learned.psnr - blend.psnr)).toBeLessThan(0.5);
    await models.release();

    const rows = await benchInterpolation({ modelsDir, pack: 'bench-pack' });
    const names = rows.map((r) => r.name);
    for (const method of ['learned', 'motion', 'blend']) {
      expect(names).toContain(`${method} 4x: time per 8-keyframe clip`);
      expect(names).toContain(`${method} 4x: PSNR of in-betweens`);
    }
    for (const r of rows) expect(typeof r.value).toBe('number');
    expect(rows.find((r) => r.name === 'motion - blend PSNR')!.value).toBeGreaterThan(0);
  }, 120_000);
});
