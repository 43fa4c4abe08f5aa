/**
 * The REST API (docs/api.md). Answers are checked with zod before the UI trusts them:
 * the shapes themselves come from nodes/core, this file only guards the boundary.
 */
import { z } from 'zod';
import type { NodeDescription } from '../../nodes/core/definition';
import type { JobSummary, SubmitJob } from '../../nodes/core/protocol';
import { formatProblem, type Workflow, type WorkflowProblem } from '../../nodes/core/workflow';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problems: WorkflowProblem[] = [],
  ) {
    super(message);
  }
}

const ProblemSchema = z
  .object({ code: z.string(), message: z.string(), node: z.string().optional(), field: z.string().optional() })
  .passthrough();
const ErrorBodySchema = z.object({ error: z.string().optional(), problems: z.array(ProblemSchema).optional() }).passthrough();

// Enough of each shape to render safely; the full types live in nodes/core.
const DescriptionShape = z
  .object({
    type: z.string(),
    title: z.string(),
    category: z.string(),
    description: z.string(),
    inputs: z.record(z.string(), z.object({ kind: z.string(), label: z.string() }).passthrough()),
    outputs: z.record(z.string(), z.object({ kind: z.string(), label: z.string() }).passthrough()),
    params: z.record(z.string(), z.unknown()),
  })
  .passthrough();
const JobShape = z
  .object({ id: z.string(), name: z.string(), status: z.string(), nodes: z.record(z.string(), z.unknown()), files: z.array(z.unknown()) })
  .passthrough();
const WorkflowEntryShape = z.object({ id: z.string(), name: z.string(), source: z.enum(['example', 'saved']) });
export type WorkflowEntry = z.infer<typeof WorkflowEntryShape>;
export const FramesInfoShape = z.object({
  count: z.number().int().nonnegative(),
  width: z.number(),
  height: z.number(),
  fps: z.number().optional(),
  // The doc says "recorded sampling steps": a count or the list of step numbers.
  steps: z.union([z.number(), z.array(z.number())]).optional(),
});
export type FramesInfo = z.infer<typeof FramesInfoShape>;
const ValidateShape = z.object({ ok: z.boolean(), problems: z.array(ProblemSchema) });
const ExtractShape = z.object({ workflow: z.unknown(), seed: z.number().nullable().optional() }).passthrough();
const UploadShape = z.object({ path: z.string(), name: z.string(), bytes: z.number(), mime: z.string() }).passthrough();

async function request<T>(method: string, path: string, shape: z.ZodType<T> | null, body?: BodyInit, headers?: HeadersInit): Promise<T> {
  const res = await fetch(path, { method, body, headers });
  if (!res.ok) {
    let message = `${method} ${path}: ${res.status} ${res.statusText}`;
    let problems: WorkflowProblem[] = [];
    try {
      const parsed = ErrorBodySchema.safeParse(await res.json());
      if (parsed.success) {
        problems = (parsed.data.problems ?? []) as WorkflowProblem[];
        if (parsed.data.error) message = parsed.data.error;
        if (problems.length > 0) message += `: ${problems.slice(0, 3).map(formatProblem).join('; ')}`;
      }
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(message, res.status, problems);
  }
  if (shape === null) return undefined as T;
  const data: unknown = await res.json();
  const parsed = shape.safeParse(data);
  if (!parsed.success) throw new ApiError(`${method} ${path}: unexpected answer (${parsed.error.issues[0]?.message ?? 'shape'})`, res.status);
  return parsed.data;
}

const json = (value: unknown): [BodyInit, HeadersInit] => [JSON.stringify(value), { 'Content-Type': 'application/json' }];

export const api = {
  health: () => request('GET', '/api/health', z.object({ ok: z.boolean() }).passthrough()),
  nodes: async (): Promise<NodeDescription[]> =>
    (await request('GET', '/api/nodes', z.array(DescriptionShape))) as unknown as NodeDescription[],
  workflows: () => request('GET', '/api/workflows', z.array(WorkflowEntryShape)),
  workflow: (source: string, id: string) =>
    request('GET', `/api/workflows/${encodeURIComponent(source)}/${encodeURIComponent(id)}`, z.unknown()),
  saveWorkflow: (id: string, workflow: Workflow) =>
    request('PUT', `/api/workflows/saved/${encodeURIComponent(id)}`, z.object({ id: z.string() }), ...json(workflow)),
  deleteWorkflow: (id: string) => request('DELETE', `/api/workflows/saved/${encodeURIComponent(id)}`, null),
  validate: (workflow: Workflow) =>
    request('POST', '/api/validate', ValidateShape, ...json({ workflow })) as Promise<{ ok: boolean; problems: WorkflowProblem[] }>,
  submit: async (body: SubmitJob): Promise<JobSummary> =>
    (await request('POST', '/api/jobs', JobShape, ...json(body))) as unknown as JobSummary,
  jobs: async (): Promise<JobSummary[]> => (await request('GET', '/api/jobs', z.array(JobShape))) as unknown as JobSummary[],
  job: async (id: string): Promise<JobSummary> =>
    (await request('GET', `/api/jobs/${encodeURIComponent(id)}`, JobShape)) as unknown as JobSummary,
  cancel: async (id: string): Promise<JobSummary> =>
    (await request('POST', `/api/jobs/${encodeURIComponent(id)}/cancel`, JobShape)) as unknown as JobSummary,
  removeJob: (id: string) => request('DELETE', `/api/jobs/${encodeURIComponent(id)}`, null),
  frames: (job: string, node: string) =>
    request('GET', `/api/jobs/${encodeURIComponent(job)}/nodes/${encodeURIComponent(node)}/frames`, FramesInfoShape),
  extractWorkflow: (bytes: Blob) =>
    request('POST', '/api/extract-workflow', ExtractShape, bytes, { 'Content-Type': bytes.type || 'application/octet-stream' }),
  upload: (file: File) =>
    request('POST', '/api/uploads', UploadShape, file, {
      'Content-Type': file.type || 'application/octet-stream',
      'X-Filename': encodeURIComponent(file.name),
    }),
};

export const frameUrl = (job: string, node: string, i: number) =>
  `/api/jobs/${encodeURIComponent(job)}/nodes/${encodeURIComponent(node)}/frames/${i}`;
export const stepFrameUrl = (job: string, node: string, step: number, i: number) =>
  `/api/jobs/${encodeURIComponent(job)}/nodes/${encodeURIComponent(node)}/steps/${step}/${i}`;

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
