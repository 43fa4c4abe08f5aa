/**
 * `npm run eval:tiny:pipeline`: how much of the prompt survives everything except the
 * diffusion decoder? The renderer's own keyframes of each eval scene go through the pack's
 * latent autoencoder (encode, decode), then the default workflow's interpolate and upscale
 * nodes, and the result is judged exactly as eval:tiny judges generated videos. What fails
 * here cannot be fixed by training the keyframe decoder longer.
 *
 * Usage: npm run eval:tiny:pipeline -- [--prompts N] [--seed S] [--models DIR] [--interpolation learned|motion|blend]
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { defineNode } from '../../../nodes/core/definition';
import type { FrameSet } from '../../../nodes/core/values';
import { framesToTensor } from '../../../nodes/lib/frames';
import { decodeLatentFrames, firstFloatOutput, videoPack } from '../../../nodes/lib/pack';
import { encodePrompt } from '../../../nodes/prompt';
import { registry } from '../../../nodes/registry';
import { NodeOutputCache } from '../../../server/engine/cache';
import { executeWorkflow } from '../../../server/engine/executor';
import { DEFAULT_WORKFLOW, MODELS_DIR } from '../../../server/paths';
import { ModelRuntime } from '../../../server/runtime/models';
import { judge, videoFromPixels } from '../world/analyze';
import { renderClip, WORLD_RESOLUTION, CLIP_FRAMES } from '../world/render';
import { loadWorkflowFile } from './product';
import { buildPrompts, describePrompts } from './prompts';
import { commonFailures, formatFailures, formatTable, recordJudgement, summarise, type RunRecord } from './score';

const PACK = 'tiny-world';

const { values } = parseArgs({
  options: { prompts: { type: 'string' }, seed: { type: 'string' }, models: { type: 'string' }, interpolation: { type: 'string' } },
});
const args = z
  .object({
    prompts: z.coerce.number().int().min(1).max(5000).default(120),
    seed: z.coerce.number().int().min(0).default(1),
    models: z.string().min(1).default(MODELS_DIR),
    /** Another interpolate method than the default workflow's (learned, motion, blend). */
    interpolation: z.enum(['learned', 'motion', 'blend']).optional(),
  })
  .parse(values);

const models = new ModelRuntime(path.resolve(args.models));
const pack = videoPack(models, PACK);
const { video } = pack;
if (video.width !== WORLD_RESOLUTION) throw new Error(`the pack works at ${video.width} px, the renderer at ${WORLD_RESOLUTION}`);

/**
 * The renderer's keyframes at the clip positions the decoder was trained on, through the
 * latent autoencoder; a latent decoder that reads the prompt gets it, as in the product.
 */
async function autoencodedKeyframes(pixels: Uint8Array, caption: string): Promise<Uint8Array[]> {
  const frameBytes = video.width * video.height * 3;
  const step = (CLIP_FRAMES - 1) / (video.keyframes - 1);
  const keyframes = Array.from({ length: video.keyframes }, (_, i) => pixels.slice(Math.round(i * step) * frameBytes, (Math.round(i * step) + 1) * frameBytes));
  const dims = [keyframes.length, 3, video.height, video.width];
  const encoded = await models.run(PACK, 'latent-encoder', { image: { data: framesToTensor(keyframes, video.width, video.height), dims } });
  const latents = firstFloatOutput(encoded, `the latent encoder of "${PACK}"`);
  const text = await encodePrompt(models, PACK, caption, `eval caption "${caption}"`);
  return decodeLatentFrames(models, PACK, latents, keyframes.length, text.embedding);
}

/** Stands in for the keyframes node: hands the executor the frames of the scene being judged. */
let current: FrameSet | null = null;
const givenFrames = defineNode({
  type: 'given-frames',
  version: 1,
  title: 'Given frames',
  category: 'video',
  description: 'The autoencoded renderer keyframes of the scene being judged (eval only).',
  inputs: {},
  outputs: { frames: { kind: 'frames', label: 'frames' } },
  params: z.object({ scene: z.number().int() }),
  volatile: true,
  async execute() {
    if (current === null) throw new Error('no scene set');
    return { frames: current };
  },
});

const base = loadWorkflowFile(DEFAULT_WORKFLOW);
const nodeOf = (type: string) => {
  const node = base.nodes.find((n) => n.type === type);
  if (node === undefined) throw new Error(`the default workflow has no "${type}" node`);
  return node;
};
const interpolate = nodeOf('interpolate');
const upscale = nodeOf('upscale');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'tiny-world-pipeline-'));

const prompts = buildPrompts(args.prompts, args.seed);
console.log(`eval:tiny:pipeline: ${describePrompts(prompts)}`);
console.log(`eval:tiny:pipeline: renderer keyframes -> latent encoder -> latent decoder -> interpolate ${JSON.stringify({ ...interpolate.params, ...(args.interpolation ? { method: args.interpolation } : {}) })} -> upscale ${JSON.stringify(upscale.params)}`);
const records: RunRecord[] = [];
const keyframeRecords: RunRecord[] = [];
try {
  for (const prompt of prompts) {
    const pixels = renderClip(prompt.attributes, prompt.seed, { width: video.width });
    const frames = await autoencodedKeyframes(pixels, prompt.caption);
    current = { width: video.width, height: video.height, fps: video.fps / video.interpolation, frames };
    const result = await executeWorkflow(
      {
        format: 'make-a-video-studio/workflow',
        version: 1,
        name: 'pipeline ceiling',
        meta: {},
        nodes: [
          { id: 'given', type: 'given-frames', params: { scene: prompt.index }, position: { x: 0, y: 0 } },
          { ...interpolate, params: { ...interpolate.params, ...(args.interpolation ? { method: args.interpolation } : {}) } },
          upscale,
        ],
        edges: [
          { from: { node: 'given', port: 'frames' }, to: { node: interpolate.id, port: 'frames' } },
          { from: { node: interpolate.id, port: 'frames' }, to: { node: upscale.id, port: 'frames' } },
        ],
      },
      {
        registry: { ...registry, 'given-frames': givenFrames },
        models,
        cache: new NodeOutputCache(0),
        outputDir: workDir,
        inputRoots: [workDir],
        signal: new AbortController().signal,
      },
    );
    const out = result.outputs.get(upscale.id)?.frames as FrameSet;
    const judged = recordJudgement(judge({ width: out.width, height: out.height, frames: out.frames }, prompt.named));
    records.push(judged);
    // The keyframes alone (8 frames, 64 px): separates the autoencoder's losses from the interpolator's.
    const keyframeVideo = videoFromPixels(Buffer.concat(frames), video.width);
    const { motion: _notJudgedOnKeyframes, ...stillAttributes } = prompt.named;
    keyframeRecords.push(recordJudgement(judge(keyframeVideo, stillAttributes)));
    const failed = Object.entries(judged.verdicts)
      .filter(([, v]) => v !== undefined && !v.pass)
      .map(([k, v]) => `${k} (${v.detail})`);
    console.log(`${prompt.index + 1}/${prompts.length} ${failed.length === 0 ? 'PASS' : `fail: ${failed.join(', ')}`} | "${prompt.caption}"`);
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
console.log('\nRenderer keyframes through our autoencoder, interpolator and upscaler (no diffusion):\n');
console.log(formatTable({ ours: summarise(records) }, 'pipeline without the decoder'));
console.log('\nThe autoencoded keyframes alone (8 frames at 64 px, motion not judged):\n');
console.log(formatTable({ ours: summarise(keyframeRecords) }, 'autoencoded keyframes'));
console.log(`\nMost common failures:\n${formatFailures(commonFailures(records))}`);
