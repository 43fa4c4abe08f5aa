import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineNode } from '../../nodes/core/definition';
import { canonicalJson, parseWorkflow, type Workflow } from '../../nodes/core/workflow';
import { topologicalOrder, validateWorkflow, type Registry } from '../../nodes/core/validate';
import { DEFAULT_WORKFLOW } from '../../server/paths';

const frames = { kind: 'frames' as const, label: 'frames' };
const source = defineNode({
  type: 'source',
  version: 1,
  title: 'Source',
  category: 'video',
  description: '',
  inputs: {},
  outputs: { frames, embedding: { kind: 'image-embedding', label: 'e' } },
  params: z.object({ count: z.number().int().min(1).max(100).default(4), colour: z.enum(['red', 'blue']).default('red') }),
  async execute() {
    throw new Error('not run');
  },
});
const sink = defineNode({
  type: 'sink',
  version: 1,
  title: 'Sink',
  category: 'output',
  description: '',
  inputs: { frames, extra: { kind: 'frames', label: 'x', optional: true } },
  outputs: { frames },
  params: z.object({}),
  async execute() {
    throw new Error('not run');
  },
});
const registry: Registry = { source, sink } as unknown as Registry;

function wf(nodes: Workflow['nodes'], edges: Workflow['edges'] = []): Workflow {
  return { format: 'make-a-video-studio/workflow', version: 1, name: 't', nodes, edges, meta: {} };
}
const n = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, params, position: { x: 0, y: 0 } });
const e = (from: string, fp: string, to: string, tp: string) => ({ from: { node: from, port: fp }, to: { node: to, port: tp } });

describe('workflow format', () => {
  it('parses the default workflow', () => {
    const parsed = parseWorkflow(readFileSync(DEFAULT_WORKFLOW, 'utf8'));
    expect(parsed.ok).toBe(true);
  });

  it('reports malformed JSON with the parser message', () => {
    const parsed = parseWorkflow('{"nodes": [');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]).toMatchObject({ code: 'malformed-json' });
  });

  it('reports wrong types naming the node and field', () => {
    const parsed = parseWorkflow({ format: 'make-a-video-studio/workflow', version: 1, nodes: [{ id: 'a', type: 5 }], edges: [] });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]).toMatchObject({ code: 'schema', node: 'a', field: 'type' });
  });

  it('refuses unknown versions and migrates version 0', () => {
    const future = parseWorkflow({ format: 'make-a-video-studio/workflow', version: 9, nodes: [] });
    expect(future.ok).toBe(false);
    if (!future.ok) expect(future.problems[0]!.message).toMatch(/version 9 is not supported/);
    const old = parseWorkflow({ version: 0, name: 'old', nodes: [{ id: 'a', type: 'source', inputs: { count: 3 } }, { id: 'b', type: 'sink' }], edges: [['a', 'frames', 'b', 'frames']] });
    expect(old.ok).toBe(true);
    if (old.ok) {
      expect(old.workflow.version).toBe(1);
      expect(old.workflow.nodes[0]!.params).toEqual({ count: 3 });
      expect(old.workflow.edges[0]).toEqual(e('a', 'frames', 'b', 'frames'));
    }
  });

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });
});

describe('graph validation', () => {
  it('accepts a valid graph and orders it topologically', () => {
    const result = validateWorkflow(wf([n('s', 'sink'), n('a', 'source')], [e('a', 'frames', 's', 'frames')]), registry);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.graph.order).toEqual(['a', 's']);
  });

  it('reports every problem at once, each with node and field', () => {
    const result = validateWorkflow(
      wf(
        [n('a', 'source', { count: 1e9, colour: 'green' }), n('a', 'source'), n('x', 'mystery'), n('s', 'sink'), n('t', 'sink')],
        [e('a', 'embedding', 't', 'frames'), e('ghost', 'frames', 's', 'frames'), e('a', 'frames', 's', 'nope')],
      ),
      registry,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const codes = result.problems.map((p) => `${p.code}@${p.node}:${p.field}`);
    expect(codes).toContain('duplicate-id@a:id');
    expect(codes).toContain('unknown-type@x:type');
    expect(codes).toContain('invalid-param@a:params.count');
    expect(codes).toContain('invalid-param@a:params.colour');
    expect(codes).toContain('kind-mismatch@t:inputs.frames');
    expect(codes).toContain('dangling-edge@s:edges');
    expect(codes).toContain('unknown-port@s:inputs.nope');
    expect(codes).toContain('missing-input@s:inputs.frames');
    const range = result.problems.find((p) => p.field === 'params.count')!;
    expect(range.message).toMatch(/at most 100/);
    expect(range.message).toMatch(/1000000000/);
  });

  it('reports cycles naming the nodes', () => {
    const result = validateWorkflow(
      wf([n('a', 'sink'), n('b', 'sink'), n('c', 'source')], [e('a', 'frames', 'b', 'frames'), e('b', 'frames', 'a', 'frames')]),
      registry,
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.filter((p) => p.code === 'cycle').map((p) => p.node).sort()).toEqual(['a', 'b']);
  });

  it('reports unknown params instead of ignoring them', () => {
    const result = validateWorkflow(wf([n('a', 'source', { cuont: 3 })]), registry);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatchObject({ code: 'unknown-param', node: 'a', field: 'params.cuont' });
  });

  it('orders diamonds so every node follows its inputs', () => {
    const { order, cycle } = topologicalOrder(['d', 'c', 'b', 'a'], [e('a', 'o', 'b', 'i'), e('a', 'o', 'c', 'i'), e('b', 'o', 'd', 'i'), e('c', 'o', 'd', 'j')]);
    expect(cycle).toEqual([]);
    expect(order.indexOf('a')).toBeLessThan(order.indexOf('b'));
    expect(order.indexOf('c')).toBeLessThan(order.indexOf('d'));
    expect(order.indexOf('b')).toBeLessThan(order.indexOf('d'));
  });
});
