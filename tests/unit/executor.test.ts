import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { defineNode } from '../../nodes/core/definition';
import type { Registry } from '../../nodes/core/validate';
import type { Workflow } from '../../nodes/core/workflow';
import { NodeOutputCache } from '../../server/engine/cache';
import { CancelledError, executeWorkflow, nodeChecker, NodeFailedError, type ExecEvent, type Models } from '../../server/engine/executor';
import { SeededRng } from '../../server/engine/rng';
import { MODELS_DIR } from '../../server/paths';
import { ModelRuntime } from '../../server/runtime/models';

// Engine-level test nodes: they exercise ordering, caching, cancellation and seeding,
// which do not depend on any model.
const runs: string[] = [];
const frames = { kind: 'frames' as const, label: 'frames' };
const noise = defineNode({
  type: 'noise',
  version: 1,
  title: 'Noise',
  category: 'generate',
  description: '',
  inputs: {},
  outputs: { frames },
  params: z.object({ seed: z.number().int().default(0), count: z.number().int().min(1).default(3), steps: z.number().int().min(1).default(1), delayMs: z.number().default(0) }),
  async execute(ctx, _i, p) {
    runs.push(ctx.nodeId);
    for (let s = 0; s < p.steps; s++) {
      ctx.throwIfAborted();
      if (p.delayMs) await new Promise((r) => setTimeout(r, p.delayMs));
      ctx.progress(s + 1, p.steps);
    }
    const out = Array.from({ length: p.count }, () => Uint8Array.from({ length: 12 }, () => ctx.rng.int(256)));
    return { frames: { width: 2, height: 2, fps: 8, frames: out } };
  },
});
const invert = defineNode({
  type: 'invert',
  version: 1,
  title: 'Invert',
  category: 'video',
  description: '',
  inputs: { frames },
  outputs: { frames },
  params: z.object({ amount: z.number().default(255), fail: z.boolean().default(false) }),
  async execute(ctx, inputs, p) {
    runs.push(ctx.nodeId);
    if (p.fail) throw new Error('asked to fail');
    return { frames: { ...inputs.frames, frames: inputs.frames.frames.map((f) => f.map((v) => p.amount - v)) } };
  },
});
const registry = { noise, invert } as unknown as Registry;

const models: Models = new ModelRuntime(MODELS_DIR);
const wf = (params: { a?: object; b?: object; c?: object } = {}): Workflow => ({
  format: 'make-a-video-studio/workflow',
  version: 1,
  name: 'chain',
  nodes: [
    { id: 'c', type: 'invert', params: { ...params.c }, position: { x: 0, y: 0 } },
    { id: 'b', type: 'invert', params: { ...params.b }, position: { x: 0, y: 0 } },
    { id: 'a', type: 'noise', params: { seed: 1, ...params.a }, position: { x: 0, y: 0 } },
  ],
  edges: [
    { from: { node: 'a', port: 'frames' }, to: { node: 'b', port: 'frames' } },
    { from: { node: 'b', port: 'frames' }, to: { node: 'c', port: 'frames' } },
  ],
  meta: {},
});

function run(workflow: Workflow, cache = new NodeOutputCache(1 << 24), signal = new AbortController().signal, onEvent?: (e: ExecEvent) => void) {
  runs.length = 0;
  return executeWorkflow(workflow, {
    registry,
    models,
    cache,
    signal,
    outputDir: mkdtempSync(path.join(os.tmpdir(), 'exec-')),
    inputRoots: [os.tmpdir()],
    onEvent,
  });
}

describe('executor', () => {
  it('runs nodes in topological order, whatever the file order', async () => {
    await run(wf());
    expect(runs).toEqual(['a', 'b', 'c']);
  });

  it('re-runs only the changed node and what is downstream of it', async () => {
    const cache = new NodeOutputCache(1 << 24);
    const first = await run(wf(), cache);
    expect(runs).toEqual(['a', 'b', 'c']);
    await run(wf(), cache);
    expect(runs).toEqual([]);
    const changed = await run(wf({ b: { amount: 200 } }), cache);
    expect(runs).toEqual(['b', 'c']);
    expect(changed.cachedNodes).toEqual(['a']);
    expect(changed.outputs.get('c')).not.toEqual(first.outputs.get('c'));
  });

  it('evicts least recently used entries past its byte budget', () => {
    const cache = new NodeOutputCache(3000);
    cache.set('one', { x: new Uint8Array(1000) });
    cache.set('two', { x: new Uint8Array(1000) });
    cache.get('one');
    cache.set('three', { x: new Uint8Array(1000) });
    expect(cache.get('two')).toBeUndefined();
    expect(cache.get('one')).toBeDefined();
    expect(cache.bytes).toBeLessThanOrEqual(3000);
  });

  it('gives byte-identical frames for the same seed and different ones for another', async () => {
    const one = await run(wf({ a: { seed: 42 } }));
    const two = await run(wf({ a: { seed: 42 } }));
    const other = await run(wf({ a: { seed: 43 } }));
    const bytes = (r: typeof one) => Buffer.concat((r.outputs.get('c')!.frames as { frames: Uint8Array[] }).frames);
    expect(bytes(one).equals(bytes(two))).toBe(true);
    expect(bytes(one).equals(bytes(other))).toBe(false);
  });

  it('stops mid-node when cancelled, at the next step', async () => {
    const abort = new AbortController();
    const progress: number[] = [];
    const pending = run(wf({ a: { steps: 50, delayMs: 10 } }), undefined, abort.signal, (e) => {
      if (e.type === 'node.progress') {
        progress.push(e.done);
        if (e.done === 3) abort.abort();
      }
    });
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    expect(Math.max(...progress)).toBeLessThanOrEqual(4);
    expect(runs).toEqual(['a']);
  });

  it('names the failing node and skips what depends on it', async () => {
    const events: ExecEvent[] = [];
    const pending = run(wf({ b: { fail: true } }), undefined, undefined, (e) => events.push(e));
    await expect(pending).rejects.toBeInstanceOf(NodeFailedError);
    await expect(pending).rejects.toThrow(/node "b" \(invert\) failed: asked to fail/);
    expect(events).toContainEqual({ type: 'node.skipped', nodeId: 'c' });
  });

  it('asks only for the optional models a pack lists, and names a missing required one', () => {
    const usesModels = (refs: { role: string; optional?: boolean }[]) =>
      defineNode({ ...noise, type: 'uses-models', models: () => refs.map((r) => ({ pack: 'tiny-world', ...r })) });
    const check = nodeChecker(models);
    // a role the pack does not list is no problem when optional (e.g. a pack without a refiner)...
    expect(check(usesModels([{ role: 'decoder' }, { role: 'no-such-model', optional: true }]) as never, {})).toEqual([]);
    // ...and is one when required
    expect(check(usesModels([{ role: 'no-such-model' }]) as never, {})).toEqual([
      { field: 'params.pack', code: 'missing-model', message: 'model pack "tiny-world" has no "no-such-model" model' },
    ]);
  });

  it('seeded RNG is reproducible and roughly normal', () => {
    const a = new SeededRng(5).fillNormal(new Float32Array(20000));
    const b = new SeededRng(5).fillNormal(new Float32Array(20000));
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});
