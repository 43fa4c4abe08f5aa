/**
 * Our converted ONNX files, run through the upscale library, against outputs of
 * realesrgan-ncnn-vulkan (kept in fixtures/ by verify.ts --fixtures), so CI needs no
 * Vulkan. Also checks the manifest against the files beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packSessions, upscaleFrames } from '../../nodes/lib/upscale';
import { PACK_DIR, PACK_MODELS, loadPackManifest, sha256 } from './pack';
import { FRAME_KINDS, compareFrames } from './test-frames';
import { FIXTURE_DIR, libraryParams, readRgb } from './verify';

const sessions = packSessions();

describe('realesrgan pack', () => {
  it('manifest lists every model with the right hash, size and I/O names', () => {
    const manifest = loadPackManifest();
    expect(manifest.name).toBe('realesrgan');
    expect(existsSync(join(PACK_DIR, manifest.licence))).toBe(true);
    for (const m of PACK_MODELS) {
      const entry = manifest.models[m.role];
      expect(entry, m.role).toBeDefined();
      const bytes = readFileSync(join(PACK_DIR, entry!.file));
      expect(entry!.bytes).toBe(bytes.length);
      expect(entry!.sha256).toBe(sha256(bytes));
      expect(entry!.scale).toBe(m.scale);
      expect(Object.keys(entry!.inputs)).toEqual(['image']);
      expect(Object.keys(entry!.outputs)).toEqual(['upscaled']);
    }
  });

  describe.each(PACK_MODELS.map((m) => [m.role, m] as const))('%s matches realesrgan-ncnn-vulkan', (_role, m) => {
    it('MAD < 1/255 per channel and PSNR > 45 dB on every fixture frame', async () => {
      const inputs = await Promise.all(FRAME_KINDS.map((k) => readRgb(join(FIXTURE_DIR, `${k}.png`))));
      const { width, height } = inputs[0]!;
      // border 10 is ncnn's prepadding; it is also the library default, stated so a change of default cannot hide here.
      const ours = await upscaleFrames({ width, height, frames: inputs.map((i) => i.data) }, { ...libraryParams(m), border: 10 }, sessions);
      for (const [i, k] of FRAME_KINDS.entries()) {
        const ref = await readRgb(join(FIXTURE_DIR, `${k}.${m.role}.png`));
        expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
        const d = compareFrames(ours.frames[i]!, ref.data);
        for (const c of d.mad) expect(c, `${k} MAD`).toBeLessThan(1);
        expect(d.psnr, `${k} PSNR`).toBeGreaterThan(45);
      }
    }, 120_000);
  });
});
