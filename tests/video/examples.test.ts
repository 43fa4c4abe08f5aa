/**
 * The video example workflows, run end to end through the real executor, real ffmpeg and
 * real ONNX Runtime on a synthetic pack with the tiny-world interface (so they run with
 * or without the trained pack; tests/integration/workflows.test.ts runs them on the
 * trained one). Checks what each example promises: the file ffprobe sees, the workflow
 * it carries, and for extension and animation, that the given frames come through.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registry } from '../../nodes/registry';
import type { FrameSet, OutputFile } from '../../nodes/core/values';
import { canonicalJson, parseWorkflow, type Workflow } from '../../nodes/core/workflow';
import { decodeVideo, probeVideo } from '../../nodes/lib/ffmpeg';
import { resizeFrame } from '../../nodes/lib/frames';
import { readWorkflowFromMedia } from '../../nodes/lib/media-metadata';
import { readZip } from '../../nodes/lib/zip';
import { VOCABULARY, MAX_TOKENS } from '../../models/tiny-world/world/vocabulary';
import { NodeOutputCache } from '../../server/engine/cache';
import { executeWorkflow, type ExecuteResult } from '../../server/engine/executor';
import { MODELS_DIR, WORKFLOWS_DIR } from '../../server/paths';
import { ModelRuntime } from '../../server/runtime/models';
import { psnr, tempDir } from './helpers';
import { writeSyntheticVideoPack } from './tiny-onnx';

const PACK = 'synthetic-world';
const modelsDir = tempDir('studio-examples-models-');
writeSyntheticVideoPack(modelsDir, PACK, { vocabulary: VOCABULARY, maxTokens: MAX_TOKENS });
const models = new ModelRuntime(modelsDir, 'cpu', 2);
afterAll(() => models.release());

function loadExample(name: string, packParam = PACK): Workflow {
  const parsed = parseWorkflow(readFileSync(path.join(WORKFLOWS_DIR, `${name}.json`), 'utf8'));
  if (!parsed.ok) throw new Error(`${name}: ${JSON.stringify(parsed.problems)}`);
  const workflow = parsed.workflow;
  for (const node of workflow.nodes) {
    const def = registry[node.type as keyof typeof registry];
    // Only the tiny-world nodes move to the synthetic pack; upscale keeps realesrgan.
    const defaults = def?.params.safeParse({});
    if (defaults?.success && (defaults.data as { pack?: string }).pack === 'tiny-world') node.params.pack = packParam;
    // Fewer sampling steps: the synthetic decoder is linear, more steps prove nothing more.
    if (node.type === 'keyframes') node.params.steps = 4;
  }
  return workflow;
}

async function run(workflow: Workflow, withModels: ModelRuntime = models): Promise<ExecuteResult & { outputDir: string }> {
  const outputDir = tempDir('studio-examples-out-');
  const result = await executeWorkflow(workflow, {
    registry,
    models: withModels as never,
    cache: new NodeOutputCache(1 << 28),
    signal: new AbortController().signal,
    outputDir,
    inputRoots: [path.join(WORKFLOWS_DIR, 'assets')],
  });
  return Object.assign(result, { outputDir });
}

function framesOf(result: ExecuteResult, node: string): FrameSet {
  const out = result.outputs.get(node);
  const set = Object.values(out ?? {}).find((v) => v && typeof v === 'object' && 'frames' in v) as FrameSet | undefined;
  if (!set) throw new Error(`node ${node} produced no frames`);
  return set;
}

async function checkFile(file: OutputFile, workflow: Workflow, expected: { frames: number; width: number; height: number; fps: number }) {
  expect([file.frames, file.width, file.height, file.fps]).toEqual([expected.frames, expected.width, expected.height, expected.fps]);
  if (file.name.endsWith('.zip')) {
    expect(readZip(readFileSync(file.path)).filter((e) => e.name.endsWith('.png')).length).toBe(expected.frames);
  } else {
    const probe = await probeVideo(file.path, { countFrames: true });
    expect([probe.frames, probe.width, probe.height]).toEqual([expected.frames, expected.width, expected.height]);
    if (file.name.endsWith('.gif')) expect(Math.abs(expected.frames / probe.durationSeconds! - expected.fps)).toBeLessThan(0.3);
    else expect(probe.fps).toBeCloseTo(expected.fps, 5);
  }
  const back = await readWorkflowFromMedia(file.path);
  expect(canonicalJson(back.workflow)).toBe(canonicalJson(workflow));
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('video example workflows run end to end', () => {
  it('image-to-video: the still is the first keyframe, 29 frames at 8 fps', async () => {
    const workflow = loadExample('image-to-video');
    const result = await run(workflow);
    const image = framesOf(result, 'image');
    const keyframes = framesOf(result, 'keyframes');
    expect(keyframes.frames.length).toBe(8);
    expect(same(keyframes.frames[0]!, image.frames[0]!)).toBe(true);
    const video = framesOf(result, 'interpolate');
    expect(video.frames.length).toBe(29);
    expect(same(video.frames[0]!, image.frames[0]!)).toBe(true);
    expect(result.files).toHaveLength(1);
    await checkFile(result.files[0]!.file, workflow, { frames: 29, width: 64, height: 64, fps: 8 });
  });

  it('extend-video: the new clip starts with the input clip’s last keyframes, in the file too', async () => {
    const workflow = loadExample('extend-video');
    const result = await run(workflow);
    const input = framesOf(result, 'video');
    expect(input.frames.length).toBe(8);
    const given = workflow.nodes.find((n) => n.id === 'keyframes')!.params.given as number;
    const keyframes = framesOf(result, 'keyframes');
    for (let g = 0; g < given; g++) expect(same(keyframes.frames[g]!, input.frames[input.frames.length - given + g]!)).toBe(true);
    const video = framesOf(result, 'interpolate');
    for (let g = 0; g < given; g++) expect(same(video.frames[4 * g]!, input.frames[input.frames.length - given + g]!)).toBe(true);
    const file = result.files[0]!.file;
    await checkFile(file, workflow, { frames: 29, width: 64, height: 64, fps: 8 });
    // Through H.264 the frames are no longer bit-exact, but they are the same pictures.
    const decoded = await decodeVideo(file.path, { maxFrames: 29, width: 64, height: 64 });
    for (let g = 0; g < given; g++) expect(psnr(decoded[4 * g]!, input.frames[input.frames.length - given + g]!)).toBeGreaterThan(30);
  });

  it('image-variations: the embedding comes from the image encoder; a gif that loops', async () => {
    const workflow = loadExample('image-variations');
    const result = await run(workflow);
    const embedding = result.outputs.get('encode')!.embedding as { source: string };
    expect(embedding.source).toBe('image');
    await checkFile(result.files[0]!.file, workflow, { frames: 29, width: 64, height: 64, fps: 8 });
  });

  it('video-variation: keyframes follow the clip (noised, denoised), motion interpolation, webm', async () => {
    const workflow = loadExample('video-variation');
    const result = await run(workflow);
    expect(framesOf(result, 'keyframes').frames.length).toBe(8);
    await checkFile(result.files[0]!.file, workflow, { frames: 29, width: 64, height: 64, fps: 8 });
  });

  it('upscale-a-video: the clip at twice the size, same frames and fps, with the real Real-ESRGAN pack', async () => {
    const repoModels = new ModelRuntime(MODELS_DIR, 'cpu', 2);
    try {
      const workflow = loadExample('upscale-a-video');
      const result = await run(workflow, repoModels);
      const input = framesOf(result, 'video');
      const up = framesOf(result, 'upscale');
      expect([up.width, up.height, up.frames.length]).toEqual([128, 128, 29]);
      await checkFile(result.files[0]!.file, workflow, { frames: 29, width: 128, height: 128, fps: 8 });
      // The upscaled frame, shrunk back, is the input frame.
      const down = await resizeFrame(up.frames[10]!, 128, 128, 64, 64, 'fill');
      expect(psnr(down, input.frames[10]!)).toBeGreaterThan(28);
    } finally {
      await repoModels.release();
    }
  }, 300_000);

  it('every video example validates against the registry as shipped', () => {
    for (const name of ['image-to-video', 'image-variations', 'extend-video', 'video-variation', 'upscale-a-video']) {
      const parsed = parseWorkflow(readFileSync(path.join(WORKFLOWS_DIR, `${name}.json`), 'utf8'));
      expect(parsed.ok, name).toBe(true);
    }
  });
});
