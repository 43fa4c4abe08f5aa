/**
 * A pack whose latent decoder also reads the prompt (a `text_embedding` input in its
 * manifest, as session 8's experimental tiny-world decoder does): the keyframes node must hand it
 * the prompt's text embedding, in the final frames and in every step's preview, and zeros
 * when "Decoder reads text" is off (the paper's text-blind decoder, the eval's ablation).
 * The synthetic decoder adds the embedding's sum to every pixel, so the frames show exactly
 * what it was given.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { registry } from '../../nodes/registry';
import type { FrameSet, TextEmbedding } from '../../nodes/core/values';
import type { Workflow } from '../../nodes/core/workflow';
import { VOCABULARY, MAX_TOKENS } from '../../models/tiny-world/world/vocabulary';
import { NodeOutputCache } from '../../server/engine/cache';
import { executeWorkflow } from '../../server/engine/executor';
import { ModelRuntime } from '../../server/runtime/models';
import { tempDir } from './helpers';
import { writeSyntheticVideoPack } from './tiny-onnx';

const modelsDir = tempDir('studio-text-decoder-models-');
writeSyntheticVideoPack(modelsDir, 'reads-text', { vocabulary: VOCABULARY, maxTokens: MAX_TOKENS, latentDecoderReadsText: true });
writeSyntheticVideoPack(modelsDir, 'text-blind', { vocabulary: VOCABULARY, maxTokens: MAX_TOKENS });
const models = new ModelRuntime(modelsDir, 'cpu', 2);
afterAll(() => models.release());

function workflow(pack: string, decoderText: boolean): Workflow {
  return {
    format: 'make-a-video-studio/workflow',
    version: 1,
    name: 'latent decoder reads text',
    meta: {},
    nodes: [
      { id: 'prompt', type: 'prompt', params: { text: 'a small yellow star moving left on a white background', pack }, position: { x: 0, y: 0 } },
      { id: 'keyframes', type: 'keyframes', params: { steps: 3, seed: 4, decoderText, pack }, position: { x: 200, y: 0 } },
    ],
    edges: [{ from: { node: 'prompt', port: 'text' }, to: { node: 'keyframes', port: 'text' } }],
  };
}

async function run(pack: string, decoderText: boolean) {
  const previews: FrameSet[] = [];
  const result = await executeWorkflow(workflow(pack, decoderText), {
    registry,
    models,
    cache: new NodeOutputCache(0),
    signal: new AbortController().signal,
    outputDir: tempDir('studio-text-decoder-out-'),
    inputRoots: [],
    onPreview: (node, frames) => {
      if (node === 'keyframes') previews.push(frames);
    },
  });
  const text = result.outputs.get('prompt')!.text as TextEmbedding;
  return { frames: (result.outputs.get('keyframes')!.frames as FrameSet).frames, text, previews };
}

/** Mean of (a - b) over every byte of every frame. */
function meanShift(a: readonly Uint8Array[], b: readonly Uint8Array[]): number {
  let sum = 0;
  let count = 0;
  a.forEach((frame, f) => frame.forEach((v, i) => ((sum += v - b[f]![i]!), count++)));
  return sum / count;
}

describe('a latent decoder that reads the prompt', () => {
  it('gets the prompt’s text embedding, and zeros when the decoder reads no text', async () => {
    const withText = await run('reads-text', true);
    const withoutText = await run('reads-text', false);
    const blind = await run('text-blind', true);
    // Without text it decodes exactly as the same decoder without a text input.
    expect(withoutText.frames.every((frame, f) => Buffer.from(frame).equals(Buffer.from(blind.frames[f]!)))).toBe(true);
    // With text every pixel moves by the embedding's sum (in bytes: x 127.5), up to rounding and clipping at 0/255.
    const sum = withText.text.embedding.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum)).toBeGreaterThan(0.05);
    const shift = meanShift(withText.frames, withoutText.frames);
    expect(Math.sign(shift)).toBe(Math.sign(sum));
    expect(Math.abs(shift)).toBeGreaterThan(0.5 * Math.abs(sum) * 127.5);
    expect(Math.abs(shift)).toBeLessThanOrEqual(Math.abs(sum) * 127.5 + 0.5);
    // The step previews (the estimate after each step but the last, then the result) are decoded the same way.
    expect(withText.previews.length).toBe(3);
    withText.previews.forEach((preview, i) => {
      const previewShift = meanShift(preview.frames, withoutText.previews[i]!.frames);
      expect(Math.sign(previewShift)).toBe(Math.sign(sum));
      expect(Math.abs(previewShift)).toBeGreaterThan(0.5 * Math.abs(sum) * 127.5);
    });
  });
});
