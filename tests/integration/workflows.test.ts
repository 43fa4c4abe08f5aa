/**
 * Golden tests: every example in workflows/ runs as it is, through the real engine and
 * the real models, and writes the file its export node promises.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registry } from '../../nodes/registry';
import { parseWorkflow } from '../../nodes/core/workflow';
import { NodeOutputCache } from '../../server/engine/cache';
import { executeWorkflow } from '../../server/engine/executor';
import { MODELS_DIR, WORKFLOWS_DIR } from '../../server/paths';
import { ModelRuntime } from '../../server/runtime/models';
import { ffprobe } from '../helpers/studio';

const models = new ModelRuntime(MODELS_DIR);
const cache = new NodeOutputCache(1 << 30);
const examples = readdirSync(WORKFLOWS_DIR).filter((f) => f.endsWith('.json')).sort();

describe('example workflows run as they are', () => {
  it('there are examples', () => {
    expect(examples).toContain('text-to-video.json');
  });

  for (const file of examples) {
    it(file, async () => {
      const parsed = parseWorkflow(readFileSync(path.join(WORKFLOWS_DIR, file), 'utf8'));
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      const outputDir = mkdtempSync(path.join(os.tmpdir(), 'golden-'));
      const result = await executeWorkflow(parsed.workflow, {
        registry,
        models,
        cache,
        signal: new AbortController().signal,
        outputDir,
        inputRoots: [path.join(WORKFLOWS_DIR, 'assets')],
      });
      expect(result.files.length).toBeGreaterThan(0);
      for (const { file: out } of result.files) {
        expect(out.path.startsWith(outputDir)).toBe(true);
        if (/\.(mp4|webm|gif)$/.test(out.name)) {
          const probe = ffprobe(out.path);
          expect(probe.frames).toBe(out.frames);
          expect(probe.width).toBe(out.width);
          expect(probe.height).toBe(out.height);
        }
      }
    });
  }
});
