/**
 * Workflow file format: one format for the editor, the HTTP API and the command line.
 * Old versions are migrated step by step to the current one before validation, so a
 * shared file keeps working after the format moves on.
 */
import { z } from 'zod';

export const WORKFLOW_FORMAT = 'make-a-video-studio/workflow';
export const WORKFLOW_VERSION = 1;

export const NodeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'node ids are 1-64 letters, digits, "_", "-" or "."');

export const PortRefSchema = z.object({ node: NodeIdSchema, port: z.string().min(1).max(64) }).strict();

export const WorkflowNodeSchema = z
  .object({
    id: NodeIdSchema,
    type: z.string().min(1).max(64),
    params: z.record(z.string(), z.unknown()).default({}),
    position: z.object({ x: z.number().finite(), y: z.number().finite() }).default({ x: 0, y: 0 }),
    title: z.string().max(200).optional(),
  })
  .strict();

export const WorkflowEdgeSchema = z.object({ from: PortRefSchema, to: PortRefSchema }).strict();

export const WorkflowSchema = z
  .object({
    format: z.literal(WORKFLOW_FORMAT),
    version: z.literal(WORKFLOW_VERSION),
    name: z.string().max(200).default('untitled'),
    nodes: z.array(WorkflowNodeSchema).max(500),
    edges: z.array(WorkflowEdgeSchema).max(2000).default([]),
    meta: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type Workflow = z.infer<typeof WorkflowSchema>;
export type WorkflowNode = z.infer<typeof WorkflowNodeSchema>;
export type WorkflowEdge = z.infer<typeof WorkflowEdgeSchema>;
export type PortRef = z.infer<typeof PortRefSchema>;

/**
 * Version 0 was the pre-release draft: edges were tuples [fromNode, fromPort, toNode,
 * toPort] and node params were called "inputs". Each migration takes version n to n+1.
 */
const MIGRATIONS: Record<number, (old: Record<string, unknown>) => Record<string, unknown>> = {
  0: (old) => {
    const edges = Array.isArray(old.edges)
      ? old.edges.map((e: unknown) =>
          Array.isArray(e) && e.length === 4
            ? { from: { node: e[0], port: e[1] }, to: { node: e[2], port: e[3] } }
            : e,
        )
      : old.edges;
    const nodes = Array.isArray(old.nodes)
      ? old.nodes.map((n: unknown) => {
          if (n === null || typeof n !== 'object') return n;
          const { inputs, ...rest } = n as Record<string, unknown>;
          return inputs !== undefined && !('params' in rest) ? { ...rest, params: inputs } : n;
        })
      : old.nodes;
    return { ...old, version: 1, edges, nodes };
  },
};

export interface WorkflowProblem {
  /** The node the problem belongs to, when there is one. */
  node?: string;
  /** The parameter, port or top-level field at fault. */
  field?: string;
  code:
    | 'malformed-json'
    | 'schema'
    | 'unsupported-version'
    | 'unknown-type'
    | 'unknown-port'
    | 'missing-input'
    | 'kind-mismatch'
    | 'duplicate-input'
    | 'invalid-param'
    | 'unknown-param'
    | 'dangling-edge'
    | 'duplicate-id'
    | 'cycle'
    | 'missing-model'
    | 'empty';
  message: string;
}

export type ParseResult = { ok: true; workflow: Workflow } | { ok: false; problems: WorkflowProblem[] };

function describePath(path: readonly PropertyKey[], raw: unknown): { node?: string; field: string } {
  if (path[0] === 'nodes' && typeof path[1] === 'number') {
    const nodes = (raw as { nodes?: unknown[] }).nodes;
    const node = nodes?.[path[1]] as { id?: unknown } | undefined;
    const id = typeof node?.id === 'string' ? node.id : `#${path[1]}`;
    return { node: id, field: path.slice(2).map(String).join('.') || 'node' };
  }
  return { field: path.map(String).join('.') || 'workflow' };
}

/** Parses text or an already-decoded object; migrates; checks the shape (not the graph). */
export function parseWorkflow(input: unknown): ParseResult {
  let raw = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, problems: [{ code: 'malformed-json', message: `workflow is not valid JSON: ${message}` }] };
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, problems: [{ code: 'schema', field: 'workflow', message: 'a workflow is a JSON object' }] };
  }
  let obj = raw as Record<string, unknown>;
  if (obj.format !== undefined && obj.format !== WORKFLOW_FORMAT) {
    return {
      ok: false,
      problems: [{ code: 'schema', field: 'format', message: `format must be "${WORKFLOW_FORMAT}", got ${JSON.stringify(obj.format)}` }],
    };
  }
  let version = typeof obj.version === 'number' ? obj.version : NaN;
  if (!Number.isInteger(version) || version < 0 || version > WORKFLOW_VERSION) {
    return {
      ok: false,
      problems: [
        {
          code: 'unsupported-version',
          field: 'version',
          message: `workflow version ${JSON.stringify(obj.version)} is not supported (this studio reads versions 0 to ${WORKFLOW_VERSION})`,
        },
      ],
    };
  }
  while (version < WORKFLOW_VERSION) {
    obj = MIGRATIONS[version]!(obj);
    version += 1;
  }
  obj = { format: WORKFLOW_FORMAT, ...obj };
  const parsed = WorkflowSchema.safeParse(obj);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => {
        const where = describePath(issue.path, obj);
        return { code: 'schema' as const, ...where, message: `${where.field}: ${issue.message}` };
      }),
    };
  }
  return { ok: true, workflow: parsed.data };
}

/** Stable text of a workflow: keys sorted, so equal workflows give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

export function formatProblem(p: WorkflowProblem): string {
  const where = p.node ? `node "${p.node}"${p.field ? `, ${p.field}` : ''}` : p.field ?? 'workflow';
  return `${where}: ${p.message}`;
}
