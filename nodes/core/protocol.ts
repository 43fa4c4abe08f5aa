/**
 * The WebSocket protocol and the job shapes the REST API returns: one definition,
 * imported by the server (which validates what clients send) and the editor.
 *
 * Binary preview message layout: [uint32 big-endian header length][header JSON, UTF-8]
 * [image bytes]. The header is PreviewHeader.
 */
import { z } from 'zod';
import type { WorkflowProblem } from './workflow';

export const NODE_STATES = ['waiting', 'running', 'cached', 'done', 'failed', 'cancelled', 'skipped'] as const;
export type NodeState = (typeof NODE_STATES)[number];
export const JOB_STATES = ['pending', 'running', 'finished', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATES)[number];

export interface NodeRunState {
  state: NodeState;
  done: number;
  total: number;
  label?: string;
  ms?: number;
  error?: string;
  /** Frame count and size of the node's main output, once finished. */
  output?: { kind: string; frames?: number; width?: number; height?: number; fps?: number };
}

export interface JobFile {
  node: string;
  name: string;
  url: string;
  mime: string;
  bytes: number;
}

export interface JobSummary {
  id: string;
  name: string;
  status: JobStatus;
  device: 'cpu' | 'cuda';
  seed: number | null;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  ms?: number;
  error?: string;
  problems?: WorkflowProblem[];
  nodes: Record<string, NodeRunState>;
  files: JobFile[];
  /** Position in the queue while pending (0 = next). */
  queuePosition?: number;
}

export type ServerEvent =
  | { type: 'hello'; clientId: string; server: string; protocol: 1 }
  | { type: 'job.queued'; job: JobSummary }
  | { type: 'job.started'; jobId: string; at: string }
  | { type: 'job.state'; job: JobSummary }
  | { type: 'node.started'; jobId: string; nodeId: string }
  | { type: 'node.progress'; jobId: string; nodeId: string; done: number; total: number; label?: string; etaMs?: number }
  | { type: 'node.cached'; jobId: string; nodeId: string; output?: NodeRunState['output'] }
  | { type: 'node.finished'; jobId: string; nodeId: string; ms: number; output?: NodeRunState['output'] }
  | { type: 'node.error'; jobId: string; nodeId: string; message: string }
  | { type: 'job.error'; jobId: string; message: string; problems?: WorkflowProblem[] }
  | { type: 'job.cancelled'; jobId: string }
  | { type: 'job.finished'; jobId: string; ms: number; files: JobFile[] }
  | { type: 'job.removed'; jobId: string }
  | { type: 'error'; message: string };

export const ClientMessageSchema = z.discriminatedUnion('type', [
  /** Follow jobs: their events and previews. "all" follows every job, now and later. */
  z.object({ type: z.literal('subscribe'), jobs: z.union([z.literal('all'), z.array(z.string().max(64)).max(100)]) }),
  z.object({ type: z.literal('unsubscribe'), jobs: z.array(z.string().max(64)).max(100) }),
  /** Previews off (e.g. a headless follower) or on; on by default. */
  z.object({ type: z.literal('previews'), enabled: z.boolean() }),
  z.object({ type: z.literal('ping'), at: z.number().optional() }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const PreviewHeaderSchema = z.object({
  jobId: z.string(),
  nodeId: z.string(),
  kind: z.enum(['step', 'frame']),
  step: z.number().int().optional(),
  steps: z.number().int().optional(),
  frame: z.number().int(),
  count: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  mime: z.enum(['image/jpeg', 'image/png']),
  /** Server clock (ms since epoch) when the frame was produced, for latency measurement. */
  at: z.number(),
});
export type PreviewHeader = z.infer<typeof PreviewHeaderSchema>;

export function encodePreview(header: PreviewHeader, image: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(4 + json.byteLength + image.byteLength);
  new DataView(out.buffer).setUint32(0, json.byteLength, false);
  out.set(json, 4);
  out.set(image, 4 + json.byteLength);
  return out;
}

export function decodePreview(message: ArrayBuffer | Uint8Array): { header: PreviewHeader; image: Uint8Array } {
  const bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
  if (bytes.byteLength < 4) throw new Error('preview message shorter than its length prefix');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
  if (4 + length > bytes.byteLength) throw new Error('preview header length exceeds the message');
  const header = PreviewHeaderSchema.parse(JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))));
  return { header, image: bytes.subarray(4 + length) };
}

/** Body of POST /api/jobs. */
export const SubmitJobSchema = z
  .object({
    workflow: z.unknown(),
    /** Overrides every "seed" param in the workflow. */
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    device: z.enum(['cpu', 'cuda']).default('cpu'),
    /** "node.param" -> value, applied before validation. */
    set: z.record(z.string().max(200), z.unknown()).optional(),
  })
  .strict();
export type SubmitJob = z.infer<typeof SubmitJobSchema>;
