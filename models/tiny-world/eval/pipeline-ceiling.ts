/**
 * `npm run eval:tiny:pipeline`: how much of the prompt survives everything except the
 * diffusion decoder? The renderer's own keyframes of each eval scene go through the pack's
 * latent autoencoder (encode, decode), then every node of the default workflow after its
 * keyframes node (since session 15: upscale, refine, interpolate), and the result is judged
 * exactly as eval:tiny judges generated videos. What fails here cannot be fixed by training
 * the keyframe decoder longer.
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
import type { Workflow } from '../../../nodes/core/workflow';
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
/**
 * The default workflow from its keyframes on: the keyframes node is replaced by the given
 * (autoencoded renderer) frames under the same id, whatever feeds only it is dropped, and
 * so is the export node; what the export node would encode is judged.
 */
function afterKeyframes(caption: string, scene: number): { workflow: Workflow; judgedNode: string } {
  const workflow = structuredClone(base);
  const keyframes = workflow.nodes.find((n) => n.type === 'keyframes');
  const exportEdge = workflow.edges.find((e) => workflow.nodes.find((n) => n.id === e.to.node)?.type === 'export');
  if (!keyframes || !exportEdge) throw new Error('the default workflow needs a keyframes node and an export node');
  Object.assign(keyframes, { type: 'given-frames', params: { scene } });
  workflow.edges = workflow.edges.filter((e) => e.to.node !== keyframes.id && e !== exportEdge);
  workflow.nodes = workflow.nodes.filter((n) => n.id !== exportEdge.to.node);
  // drop what no longer feeds anything (the prior fed only the keyframes), repeatedly
  for (let pruned = true; pruned; ) {
    const feeding = new Set(workflow.edges.map((e) => e.from.node));
    const before = workflow.nodes.length;
    workflow.nodes = workflow.nodes.filter((n) => n.id === exportEdge.from.node || feeding.has(n.id));
    workflow.edges = workflow.edges.filter((e) => [e.from.node, e.to.node].every((id) => workflow.nodes.some((n) => n.id === id)));
    pruned = workflow.nodes.length < before;
  }
  for (const node of workflow.nodes) {
    if (node.type === 'prompt') node.params.text = caption;
    if (node.type === 'interpolate' && args.interpolation) node.params.method = args.interpolation;
  }
  return { workflow, judgedNode: exportEdge.from.node };
}
const workDir = mkdtempSync(path.join(os.tmpdir(), 'tiny-world-pipeline-'));

const prompts = buildPrompts(args.prompts, args.seed);
console.log(`eval:tiny:pipeline: ${describePrompts(prompts)}`);
const shown = afterKeyframes('', 0).workflow;
console.log(`eval:tiny:pipeline: renderer keyframes -> latent encoder -> latent decoder -> ${shown.nodes.filter((n) => n.type !== 'given-frames' && n.type !== 'prompt').map((n) => `${n.type} ${JSON.stringify(n.params)}`).join(' -> ')}`);
const records: RunRecord[] = [];
const keyframeRecords: RunRecord[] = [];
try {
  for (const prompt of prompts) {
    const pixels = renderClip(prompt.attributes, prompt.seed, { width: video.width });
    const frames = await autoencodedKeyframes(pixels, prompt.caption);
    current = { width: video.width, height: video.height, fps: video.fps / video.interpolation, frames };
    const { workflow, judgedNode } = afterKeyframes(prompt.caption, prompt.index);
    const result = await executeWorkflow(workflow, {
      registry: { ...registry, 'given-frames': givenFrames },
      models,
      cache: new NodeOutputCache(0),
      outputDir: workDir,
      inputRoots: [workDir],
      signal: new AbortController().signal,
    });
    const out = result.outputs.get(judgedNode)?.frames as FrameSet;
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
console.log('\nRenderer keyframes through our autoencoder and the rest of the default workflow (no keyframe decoder):\n');
console.log(formatTable({ ours: summarise(records) }, 'pipeline without the decoder'));
console.log('\nThe autoencoded keyframes alone (8 frames at 64 px, motion not judged):\n');
console.log(formatTable({ ours: summarise(keyframeRecords) }, 'autoencoded keyframes'));
console.log(`\nMost common failures:\n${formatFailures(commonFailures(records))}`);
