/**
 * Graph validation: every problem at once, each naming its node and field, so a user
 * fixes a shared workflow in one pass instead of one error per run.
 */
import type { z } from 'zod';
import type { NodeDefinition } from './definition';
import { canConnect } from './ports';
import type { Workflow, WorkflowEdge, WorkflowProblem } from './workflow';

export type Registry = Readonly<Record<string, NodeDefinition>>;

export interface ValidatedGraph {
  workflow: Workflow;
  /** Nodes in an order where every node comes after the nodes it reads from. */
  order: string[];
  params: Map<string, Record<string, unknown>>;
  /** For each node, its inputs: port -> upstream (node, port). */
  incoming: Map<string, Map<string, { node: string; port: string }>>;
}

export type ValidationResult = { ok: true; graph: ValidatedGraph } | { ok: false; problems: WorkflowProblem[] };

export interface ValidateOptions {
  /** Problems only the model packs can tell: missing models, unknown words. */
  checkNode?: (def: NodeDefinition, params: Record<string, unknown>) => { field: string; message: string; code: 'missing-model' | 'invalid-param' }[];
}

export function formatParamIssue(issue: z.core.$ZodIssue, value: unknown): string {
  const got = value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 80);
  switch (issue.code) {
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.inclusive === false ? ' (exclusive)' : ''}, got ${got}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.inclusive === false ? ' (exclusive)' : ''}, got ${got}`;
    case 'invalid_type':
      return `expected ${issue.expected}, got ${got}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${got}`;
    default:
      return `${issue.message} (got ${got})`;
  }
}

export function validateWorkflow(workflow: Workflow, registry: Registry, options: ValidateOptions = {}): ValidationResult {
  const problems: WorkflowProblem[] = [];
  const nodesById = new Map<string, Workflow['nodes'][number]>();
  const params = new Map<string, Record<string, unknown>>();

  if (workflow.nodes.length === 0) problems.push({ code: 'empty', field: 'nodes', message: 'the workflow has no nodes' });

  for (const node of workflow.nodes) {
    if (nodesById.has(node.id)) {
      problems.push({ code: 'duplicate-id', node: node.id, field: 'id', message: `the id "${node.id}" is used by more than one node` });
      continue;
    }
    nodesById.set(node.id, node);
    const def = registry[node.type];
    if (!def) {
      problems.push({
        code: 'unknown-type',
        node: node.id,
        field: 'type',
        message: `unknown node type "${node.type}" (known: ${Object.keys(registry).sort().join(', ')})`,
      });
      continue;
    }
    const known = new Set(Object.keys(def.params.shape));
    for (const key of Object.keys(node.params)) {
      if (!known.has(key)) {
        problems.push({
          code: 'unknown-param',
          node: node.id,
          field: `params.${key}`,
          message: `"${def.type}" has no parameter "${key}" (it has: ${[...known].join(', ') || 'none'})`,
        });
      }
    }
    const parsed = def.params.safeParse(node.params);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = issue.path.map(String).join('.');
        const value = issue.path.reduce<unknown>(
          (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
          node.params,
        );
        problems.push({ code: 'invalid-param', node: node.id, field: `params.${key}`, message: formatParamIssue(issue, value) });
      }
      continue;
    }
    const nodeParams = parsed.data as Record<string, unknown>;
    params.set(node.id, nodeParams);
    for (const p of options.checkNode?.(def, nodeParams) ?? []) problems.push({ ...p, node: node.id });
  }

  const incoming = new Map<string, Map<string, { node: string; port: string }>>();
  const goodEdges: WorkflowEdge[] = [];
  for (const edge of workflow.edges) {
    const fromNode = nodesById.get(edge.from.node);
    const toNode = nodesById.get(edge.to.node);
    const label = `${edge.from.node}.${edge.from.port} -> ${edge.to.node}.${edge.to.port}`;
    if (!fromNode || !toNode) {
      const missing = !fromNode ? edge.from.node : edge.to.node;
      problems.push({
        code: 'dangling-edge',
        node: fromNode ? edge.from.node : toNode ? edge.to.node : undefined,
        field: 'edges',
        message: `edge ${label} refers to node "${missing}", which does not exist`,
      });
      continue;
    }
    const fromDef = registry[fromNode.type];
    const toDef = registry[toNode.type];
    if (!fromDef || !toDef) continue;
    const out = fromDef.outputs[edge.from.port];
    const inp = toDef.inputs[edge.to.port];
    if (!out) {
      problems.push({
        code: 'unknown-port',
        node: fromNode.id,
        field: `outputs.${edge.from.port}`,
        message: `"${fromDef.type}" has no output "${edge.from.port}" (outputs: ${Object.keys(fromDef.outputs).join(', ') || 'none'})`,
      });
      continue;
    }
    if (!inp) {
      problems.push({
        code: 'unknown-port',
        node: toNode.id,
        field: `inputs.${edge.to.port}`,
        message: `"${toDef.type}" has no input "${edge.to.port}" (inputs: ${Object.keys(toDef.inputs).join(', ') || 'none'})`,
      });
      continue;
    }
    if (!canConnect(out.kind, inp.kind)) {
      problems.push({
        code: 'kind-mismatch',
        node: toNode.id,
        field: `inputs.${edge.to.port}`,
        message: `input "${edge.to.port}" takes ${inp.kind}, but ${edge.from.node}.${edge.from.port} gives ${out.kind}`,
      });
      continue;
    }
    let ports = incoming.get(toNode.id);
    if (!ports) incoming.set(toNode.id, (ports = new Map()));
    if (ports.has(edge.to.port)) {
      problems.push({
        code: 'duplicate-input',
        node: toNode.id,
        field: `inputs.${edge.to.port}`,
        message: `input "${edge.to.port}" is connected more than once`,
      });
      continue;
    }
    ports.set(edge.to.port, { node: edge.from.node, port: edge.from.port });
    goodEdges.push(edge);
  }

  for (const node of nodesById.values()) {
    const def = registry[node.type];
    if (!def) continue;
    for (const [port, spec] of Object.entries(def.inputs)) {
      if (!spec.optional && !incoming.get(node.id)?.has(port)) {
        problems.push({
          code: 'missing-input',
          node: node.id,
          field: `inputs.${port}`,
          message: `required input "${port}" (${spec.kind}) is not connected`,
        });
      }
    }
  }

  const order = topologicalOrder([...nodesById.keys()], goodEdges);
  if (order.cycle.length > 0) {
    for (const id of order.cycle) {
      problems.push({ code: 'cycle', node: id, field: 'edges', message: `node "${id}" is part of a cycle (${order.cycle.join(' -> ')})` });
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, graph: { workflow, order: order.order, params, incoming } };
}

/** Kahn's algorithm; ties keep the order nodes appear in the file, so runs are stable. */
export function topologicalOrder(ids: string[], edges: readonly WorkflowEdge[]): { order: string[]; cycle: string[] } {
  const indegree = new Map(ids.map((id) => [id, 0]));
  const next = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of edges) {
    if (!indegree.has(e.from.node) || !indegree.has(e.to.node)) continue;
    indegree.set(e.to.node, indegree.get(e.to.node)! + 1);
    next.get(e.from.node)!.push(e.to.node);
  }
  const position = new Map(ids.map((id, i) => [id, i]));
  const ready = ids.filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const id = ready.shift()!;
    order.push(id);
    for (const n of next.get(id)!) {
      const d = indegree.get(n)! - 1;
      indegree.set(n, d);
      if (d === 0) ready.push(n);
    }
  }
  const cycle = ids.filter((id) => !order.includes(id));
  return { order, cycle };
}
