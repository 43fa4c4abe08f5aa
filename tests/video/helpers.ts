/**
 * Shared pieces of the video tests: a real ExecContext around a real ModelRuntime (no
 * stand-ins for ONNX Runtime), synthetic clips with known motion, and PSNR.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecContext, ModelAccess, PreviewInfo } from '../../nodes/core/definition';
import type { FrameSet } from '../../nodes/core/values';
import { parseWorkflow, type Workflow } from '../../nodes/core/workflow';
import { confinePath } from '../../server/engine/paths';
import { SeededRng } from '../../server/engine/rng';

export function tempDir(prefix = 'studio-video-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A workflow with `extraNodes` filler nodes (each ~200 bytes of JSON), non-ASCII text,
 * and the characters container metadata formats treat specially (= ; # \ newline).
 */
export function sampleWorkflow(extraNodes = 30, padding = 0): Workflow {
  const parsed = parseWorkflow({
    format: 'make-a-video-studio/workflow',
    version: 1,
    name: 'Ünïcode test — “quotes” 🎬',
    nodes: [
      { id: 'prompt', type: 'prompt', params: { text: 'a red circle moving right on a navy background' }, position: { x: 0, y: 0 } },
      { id: 'export', type: 'export', params: { format: 'mp4', fps: 8, filename: 'video' }, position: { x: 300, y: 0 } },
      ...Array.from({ length: extraNodes }, (_, i) => ({
        id: `note-${i}`,
        type: 'preview',
        params: { label: `filler node ${i} with some text to make the workflow long, ${'x'.repeat(i % 50)}${'ÿ'.repeat(padding)}` },
        position: { x: i * 10.5, y: -i },
      })),
    ],
    edges: [],
    meta: { note: 'line one\nline two; a=b #hash \\ backslash', numbers: [1, 2.5, -3e-7, 1e21] },
  });
  if (!parsed.ok) throw new Error('sample workflow does not parse');
  return parsed.workflow;
}

/** About 8 KB of JSON: longer than the 1 KiB lines ffmpeg's metadata files allow. */
export const SAMPLE_WORKFLOW: Workflow = sampleWorkflow(30);

export interface TestContext extends ExecContext {
  previews: { frames: FrameSet; info: PreviewInfo }[];
  progressCalls: { done: number; total: number }[];
  abort(): void;
}

export function makeContext(options: {
  outputDir?: string;
  models?: ModelAccess;
  inputRoots?: string[];
  workflow?: Workflow;
  seed?: number;
}): TestContext {
  const controller = new AbortController();
  const previews: TestContext['previews'] = [];
  const progressCalls: TestContext['progressCalls'] = [];
  const roots = options.inputRoots ?? [tempDir()];
  const noModels: ModelAccess = {
    manifest: () => {
      throw new Error('no models in this test');
    },
    run: () => Promise.reject(new Error('no models in this test')),
    session: () => Promise.reject(new Error('no models in this test')),
    recordSessionTime: () => {},
  };
  return {
    nodeId: 'test',
    models: options.models ?? noModels,
    rng: new SeededRng(options.seed ?? 1),
    signal: controller.signal,
    progress: (done, total) => progressCalls.push({ done, total }),
    preview: (frames, info) => previews.push({ frames, info }),
    previewing: true,
    workflow: options.workflow ?? SAMPLE_WORKFLOW,
    seed: options.seed ?? 1234567,
    outputDir: options.outputDir ?? tempDir('studio-out-'),
    resolveInputPath: (userPath, field) => confinePath(userPath, roots, field),
    throwIfAborted: () => {
      if (controller.signal.aborted) {
        const error = new Error('cancelled');
        error.name = 'AbortError';
        throw error;
      }
    },
    previews,
    progressCalls,
    abort: () => controller.abort(),
  };
}

/**
 * A clip of a soft-edged square sliding right over a gradient: smooth enough for motion
 * estimation, and every in-between position is known exactly.
 */
export function slidingSquare(count: number, width = 64, height = 64, fps = 8, speed = 2): FrameSet {
  const frames = Array.from({ length: count }, (_, n) => renderSquareAt(8 + n * speed, width, height));
  return { width, height, fps, frames };
}

export function renderSquareAt(x0: number, width: number, height: number): Uint8Array {
  const frame = new Uint8Array(width * height * 3);
  const size = Math.round(Math.min(width, height) / 4);
  const y0 = Math.round(height / 2 - size / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const cover = Math.max(0, Math.min(1, Math.min(x + 1 - x0, x0 + size - x))) * (y >= y0 && y < y0 + size ? 1 : 0);
      frame[i] = Math.round(30 + 200 * cover);
      frame[i + 1] = Math.round((x / width) * 60 + 20 * (1 - cover));
      frame[i + 2] = Math.round((y / height) * 120 + 40 * (1 - cover));
    }
  }
  return frame;
}

export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`psnr: sizes differ (${a.length} vs ${b.length})`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  const mse = sum / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}
