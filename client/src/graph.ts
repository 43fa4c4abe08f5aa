/**
 * The editor's graph is React Flow nodes and edges; the document is a Workflow. These
 * functions translate both ways, so what is saved, run and validated is exactly what is
 * on screen.
 */
import type { Edge, Node } from '@xyflow/react';
import type { NodeDescription } from '../../nodes/core/definition';
import { canConnect, connectionRefusal, PORT_KIND_INFO, PORT_KINDS, type PortKind } from '../../nodes/core/ports';
import { WORKFLOW_FORMAT, WORKFLOW_VERSION, type Workflow } from '../../nodes/core/workflow';

export interface StudioNodeData extends Record<string, unknown> {
  nodeType: string;
  params: Record<string, unknown>;
  title?: string;
}
export type StudioNode = Node<StudioNodeData, 'studio'>;
export type StudioEdge = Edge<{ kind?: PortKind }>;

export interface DocInfo {
  name: string;
  meta: Record<string, unknown>;
}

export const edgeId = (from: { node: string; port: string }, to: { node: string; port: string }) =>
  `${from.node}.${from.port}->${to.node}.${to.port}`;

export function isPortKind(kind: string | undefined): kind is PortKind {
  return kind !== undefined && (PORT_KINDS as readonly string[]).includes(kind);
}

export function portKind(desc: NodeDescription | undefined, side: 'in' | 'out', port: string): PortKind | undefined {
  const spec = side === 'in' ? desc?.inputs[port] : desc?.outputs[port];
  return isPortKind(spec?.kind) ? spec.kind : undefined;
}

export const kindColour = (kind: string | undefined) => (isPortKind(kind) ? PORT_KIND_INFO[kind].colour : '#888');

export function styledEdge(edge: StudioEdge, kind: PortKind | undefined): StudioEdge {
  return { ...edge, data: { kind }, style: { stroke: kindColour(kind), strokeWidth: 2.5 } };
}

export function fromWorkflow(wf: Workflow, descs: Map<string, NodeDescription>): { nodes: StudioNode[]; edges: StudioEdge[] } {
  const types = new Map(wf.nodes.map((n) => [n.id, n.type]));
  const nodes: StudioNode[] = wf.nodes.map((n) => ({
    id: n.id,
    type: 'studio',
    position: { ...n.position },
    data: { nodeType: n.type, params: { ...n.params }, ...(n.title !== undefined ? { title: n.title } : {}) },
  }));
  const edges = wf.edges.map((e) =>
    styledEdge(
      { id: edgeId(e.from, e.to), source: e.from.node, sourceHandle: e.from.port, target: e.to.node, targetHandle: e.to.port },
      portKind(descs.get(types.get(e.from.node) ?? ''), 'out', e.from.port),
    ),
  );
  return { nodes, edges };
}

export function toWorkflow(nodes: readonly StudioNode[], edges: readonly StudioEdge[], doc: DocInfo): Workflow {
  return {
    format: WORKFLOW_FORMAT,
    version: WORKFLOW_VERSION,
    name: doc.name,
    nodes: nodes.map((n) => ({
      id: n.id,
      type: n.data.nodeType,
      params: n.data.params,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      ...(n.data.title !== undefined ? { title: n.data.title } : {}),
    })),
    edges: edges.map((e) => ({
      from: { node: e.source, port: e.sourceHandle ?? '' },
      to: { node: e.target, port: e.targetHandle ?? '' },
    })),
    meta: doc.meta,
  };
}

export function freshId(base: string, taken: ReadonlySet<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 56) || 'node';
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) if (!taken.has(`${clean}-${i}`)) return `${clean}-${i}`;
}

/** Why a connection between two handles is refused, or null when it is fine. */
export function refusal(
  nodes: readonly StudioNode[],
  descs: Map<string, NodeDescription>,
  c: { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null },
): string | null {
  if (c.source === c.target) return 'a node cannot feed itself';
  const from = nodes.find((n) => n.id === c.source);
  const to = nodes.find((n) => n.id === c.target);
  const fromDesc = descs.get(from?.data.nodeType ?? '');
  const toDesc = descs.get(to?.data.nodeType ?? '');
  if (!fromDesc || !toDesc) return 'one end is a missing node type';
  const fromKind = portKind(fromDesc, 'out', c.sourceHandle ?? '');
  const toKind = portKind(toDesc, 'in', c.targetHandle ?? '');
  if (!fromKind || !toKind) return 'unknown port';
  return canConnect(fromKind, toKind) ? null : connectionRefusal(fromKind, toKind);
}

/** True when adding source->target would close a loop. */
export function makesCycle(edges: readonly StudioEdge[], source: string, target: string): boolean {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === source) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}

/** Ports a missing node still needs handles for, so its edges stay drawn. */
export function portsFromEdges(id: string, edges: readonly StudioEdge[]): { inputs: string[]; outputs: string[] } {
  const inputs = new Set<string>();
  const outputs = new Set<string>();
  for (const e of edges) {
    if (e.target === id && e.targetHandle) inputs.add(e.targetHandle);
    if (e.source === id && e.sourceHandle) outputs.add(e.sourceHandle);
  }
  return { inputs: [...inputs], outputs: [...outputs] };
}
