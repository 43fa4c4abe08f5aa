/**
 * Proof the conversion is right: upscale the same frames with our ONNX files (through
 * nodes/lib/upscale, the code the node runs) and with realesrgan-ncnn-vulkan from the
 * same tarball on lavapipe (Vulkan on the CPU), and compare.
 *   tsx models/realesrgan/verify.ts [--size 96] [--fixtures] [--source DIR]
 * --fixtures also rewrites models/realesrgan/fixtures/ (32x32 inputs and ncnn's outputs)
 * so the vitest check runs without Vulkan.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { z } from 'zod';

import * as ort from 'onnxruntime-node';
import { packSessions, RECOMMENDED_SESSION_OPTIONS, upscaleFrames, type Frames, type SessionProvider } from '../../nodes/lib/upscale';
import { convertNcnnToOnnx } from './converter/to-onnx';
import { INPUT_NAME, OUTPUT_NAME, PACK_DIR, PACK_MODELS, fetchSourcePackage, modelByRole, type PackModel, type SourcePackage } from './pack';
import { FRAME_KINDS, compareFrames, syntheticFrame, type FrameDifference } from './test-frames';

export const FIXTURE_DIR = join(PACK_DIR, 'fixtures');
export const FIXTURE_SIZE = 32;

/** How the library is told to run a pack model alone (no chaining, no lanczos). */
export function libraryParams(m: PackModel): { model: 'animevideov3' | 'x4plus-anime'; scale: 2 | 3 | 4 } {
  const model = m.role === 'upscaler-x4plus-anime' ? 'x4plus-anime' : 'animevideov3';
  return { model, scale: m.scale as 2 | 3 | 4 };
}

export async function readRgb(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export async function writePng(file: string, data: Uint8Array, width: number, height: number): Promise<void> {
  await sharp(data, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 9 }).toFile(file);
}

/**
 * How ncnn runs: 'fp16' is its default (fp16 storage, fp32 arithmetic); 'fp32' hides the
 * 16-bit extensions too. Both hide VK_KHR_8bit_storage, see ncnn-shim/hide-vk-extensions.c;
 * 'int8-output' leaves it, to show lavapipe's garbage at negative outputs.
 */
export const NCNN_MODES = {
  fp16: 'VK_KHR_8bit_storage',
  fp32: 'VK_KHR_8bit_storage,VK_KHR_16bit_storage,VK_KHR_shader_float16_int8',
  'int8-output': '',
} as const;
export type NcnnMode = keyof typeof NCNN_MODES;

/** Builds the LD_PRELOAD shim into `dir` (needs gcc; verification only, never at run time). */
export function buildShim(dir: string): string {
  const out = join(dir, 'hide-vk-extensions.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', out, join(PACK_DIR, 'ncnn-shim', 'hide-vk-extensions.c'), '-ldl']);
  return out;
}

/** Runs realesrgan-ncnn-vulkan over a folder of PNGs into `outDir`. */
export function runNcnn(source: SourcePackage, m: PackModel, inDir: string, outDir: string, shim: string, mode: NcnnMode = 'fp16', extra: string[] = []): void {
  mkdirSync(outDir, { recursive: true });
  execFileSync(
    source.binary,
    ['-i', inDir, '-o', outDir, '-m', source.modelsDir, '-n', m.ncnnModelName, '-s', String(m.scale), '-f', 'png', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LD_PRELOAD: shim, HIDE_VK_EXTENSIONS: NCNN_MODES[mode] } },
  );
}

/**
 * Sessions over models converted on the fly with every blob rounded through float16,
 * the way ncnn stores blobs on the GPU: if these match ncnn much more closely than the
 * pack's fp32 graphs do, the remaining difference is ncnn's storage precision, not ours.
 */
export function halfBlobSessions(source: SourcePackage): SessionProvider {
  const cache = new Map<string, Promise<ort.InferenceSession>>();
  return (role) => {
    let s = cache.get(role);
    if (!s) {
      const m = modelByRole(role);
      const converted = convertNcnnToOnnx(readFileSync(join(source.modelsDir, `${m.ncnn}.param`), 'utf8'), readFileSync(join(source.modelsDir, `${m.ncnn}.bin`)), {
        inputNames: { data: INPUT_NAME },
        outputNames: { output: OUTPUT_NAME },
        clipOutputs: { min: 0, max: 1 },
        emulateHalfBlobs: true,
      });
      s = ort.InferenceSession.create(converted.model, RECOMMENDED_SESSION_OPTIONS);
      cache.set(role, s);
    }
    return s;
  };
}

export interface ModelReport {
  role: string;
  /** 'pack': our committed ONNX; 'half-blobs': the same graph with fp16-rounded blobs. */
  ours: 'pack' | 'half-blobs';
  mode: NcnnMode;
  frames: number;
  size: number;
  /** Worst frame's per-channel MAD (8-bit levels) and PSNR. */
  mad: [number, number, number];
  psnr: number;
  maxAbs: number;
}

const ArgsSchema = z.object({
  size: z.coerce.number().int().min(8).max(512).default(96),
  fixtures: z.boolean().default(false),
  source: z.string().optional(),
  modes: z.array(z.enum(['fp16', 'fp32', 'int8-output'])).default(['fp16', 'fp32']),
  explain: z.boolean().default(false),
});

export async function verify(options: z.input<typeof ArgsSchema> = {}): Promise<ModelReport[]> {
  const args = ArgsSchema.parse(options);
  const source = fetchSourcePackage(args.source);
  chmodSync(source.binary, 0o755);
  const work = mkdtempSync(join(tmpdir(), 'esrgan-verify-'));
  const shim = buildShim(work);
  const sessions = packSessions();
  const reports: ModelReport[] = [];
  try {
    const sizes = args.fixtures ? [args.size, FIXTURE_SIZE] : [args.size];
    for (const size of sizes) {
      const inDir = join(work, `in-${size}`);
      mkdirSync(inDir);
      const frames = FRAME_KINDS.map((k, i) => syntheticFrame(k, size, size, i + 1));
      for (const [i, k] of FRAME_KINDS.entries()) await writePng(join(inDir, `${k}.png`), frames[i]!, size, size);
      const isFixture = args.fixtures && size === FIXTURE_SIZE;
      if (isFixture) {
        mkdirSync(FIXTURE_DIR, { recursive: true });
        for (const [i, k] of FRAME_KINDS.entries()) await writePng(join(FIXTURE_DIR, `${k}.png`), frames[i]!, size, size);
      }
      for (const m of PACK_MODELS) {
        const variants: { ours: ModelReport['ours']; out: Frames }[] = [{ ours: 'pack', out: await upscaleFrames({ width: size, height: size, frames }, libraryParams(m), sessions) }];
        if (args.explain) variants.push({ ours: 'half-blobs', out: await upscaleFrames({ width: size, height: size, frames }, libraryParams(m), halfBlobSessions(source)) });
        for (const mode of args.modes) {
          const outDir = join(work, `out-${size}-${m.role}-${mode}`);
          runNcnn(source, m, inDir, outDir, shim, mode);
          for (const { ours: variant, out: ours } of variants) {
            const diffs: FrameDifference[] = [];
            for (const [i, k] of FRAME_KINDS.entries()) {
              const ref = await readRgb(join(outDir, `${k}.png`));
              if (ref.width !== ours.width || ref.height !== ours.height) {
                throw new Error(`${m.role}: ncnn made ${ref.width}x${ref.height}, we made ${ours.width}x${ours.height}`);
              }
              diffs.push(compareFrames(ours.frames[i]!, ref.data));
              if (isFixture && mode === 'fp16' && variant === 'pack') await writePng(join(FIXTURE_DIR, `${k}.${m.role}.png`), ref.data, ref.width, ref.height);
            }
            const worstMad = diffs.reduce((w, d) => (Math.max(...d.mad) > Math.max(...w.mad) ? d : w));
            const report: ModelReport = {
              role: m.role,
              ours: variant,
              mode,
              frames: diffs.length,
              size,
              mad: worstMad.mad,
              psnr: Math.min(...diffs.map((d) => d.psnr)),
              maxAbs: Math.max(...diffs.map((d) => d.maxAbs)),
            };
            reports.push(report);
            console.log(
              `${variant === 'pack' ? 'ours' : 'ours with fp16 blobs'} ${m.role} ${size}x${size} -> ${ours.width}x${ours.height} vs ncnn ${mode}: MAD R/G/B ${report.mad.map((v) => v.toFixed(3)).join('/')} levels, ` +
                `PSNR ${report.psnr.toFixed(2)} dB, max |diff| ${report.maxAbs}`,
            );
          }
        }
      }
    }
    if (args.fixtures) {
      writeFileSync(
        join(FIXTURE_DIR, 'README.md'),
        `# realesrgan fixtures\n\nInputs (${FIXTURE_SIZE}x${FIXTURE_SIZE}, from models/realesrgan/test-frames.ts) and the outputs of\n` +
          `realesrgan-ncnn-vulkan (${PACK_MODELS.map((m) => m.role).join(', ')}) run on lavapipe.\n` +
          'Written by `npx tsx models/realesrgan/verify.ts --fixtures`; read by models/realesrgan/fixtures.test.ts.\n\n' +
          'Measured when written (worst frame):\n\n' +
          reports
            .filter((r) => r.size === FIXTURE_SIZE && r.mode === 'fp16' && r.ours === 'pack')
            .map((r) => `- ${r.role}: MAD ${r.mad.map((v) => v.toFixed(3)).join('/')} levels, PSNR ${r.psnr.toFixed(2)} dB, max ${r.maxAbs}`)
            .join('\n') +
          '\n',
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return reports;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      fixtures: { type: 'boolean' },
      explain: { type: 'boolean' },
      source: { type: 'string' },
      mode: { type: 'string', multiple: true },
    },
  });
  const reports = await verify({ ...values, modes: values.mode as NcnnMode[] | undefined });
  const failed = reports.filter((r) => r.mode !== 'int8-output' && r.ours === 'pack' && (Math.max(...r.mad) >= 1 || r.psnr <= 45));
  if (failed.length > 0) {
    console.error(`FAILED (MAD >= 1 level or PSNR <= 45 dB): ${failed.map((r) => `${r.role}@${r.size}/${r.mode}`).join(', ')}`);
    process.exit(1);
  }
}
