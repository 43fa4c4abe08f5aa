/**
 * The shipped pack follows motion words, through the product: the default workflow, one
 * seed, one scene, only the motion phrase changed. Until session 3 the decoder ignored
 * motion words (the same clip drifted whatever they said); `npm run eval:tiny` has the
 * rates, this test keeps the behaviour from silently going away.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../../nodes/registry';
import { NodeOutputCache } from '../../../server/engine/cache';
import { DEFAULT_WORKFLOW, MODELS_DIR } from '../../../server/paths';
import { ModelRuntime } from '../../../server/runtime/models';
import { analyzeVideo } from '../world/analyze';
import { generateVideo, loadWorkflowFile, prepareEvalWorkflow, workflowForPrompt } from './product';

const prepared = prepareEvalWorkflow(loadWorkflowFile(DEFAULT_WORKFLOW), registry, { keepExport: false });
const workDir = mkdtempSync(path.join(os.tmpdir(), 'tiny-world-motion-'));
const context = {
  registry,
  models: new ModelRuntime(MODELS_DIR),
  cache: new NodeOutputCache(64 * 1024 * 1024),
  outputDir: workDir,
  inputRoots: [workDir],
  signal: new AbortController().signal,
};

/** Centroid travel over the clip as a fraction of the frame (x right, y down). */
async function travel(caption: string, seed: number): Promise<{ x: number; y: number; decoderText: boolean }[]> {
  const out = [];
  for (const decoderText of [true, false]) {
    const { video } = await generateVideo(prepared, workflowForPrompt(prepared, registry, { caption, seed }, decoderText), context);
    const motion = analyzeVideo(video).motion;
    out.push({ x: motion.travelX / video.width, y: motion.travelY / video.height, decoderText });
  }
  return out;
}

describe('tiny-world pack: motion words move the object', () => {
  const directions = [
    { word: 'left', axis: 'x', sign: -1 },
    { word: 'right', axis: 'x', sign: 1 },
    { word: 'up', axis: 'y', sign: -1 },
    { word: 'down', axis: 'y', sign: 1 },
  ] as const;
  for (const { word, axis, sign } of directions) {
    it(`"moving ${word}" travels ${word} by at least a fifth of the frame, further than without the decoder reading the words`, async () => {
      const [ours, ablation] = await travel(`a big blue square moving ${word} on a white background`, 3);
      expect(sign * ours![axis]).toBeGreaterThanOrEqual(0.2);
      expect(sign * ours![axis]).toBeGreaterThan(sign * ablation![axis] + 0.1);
    });
  }
});
