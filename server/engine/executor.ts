/**
 * Runs a validated workflow: nodes in topological order, each node's outputs cached
 * under a hash of everything that determines them, cooperative cancellation, and
 * events for every state change. Used by the server's job queue and by the CLI alike.
 */
import type { ExecContext, ModelAccess, NodeDefinition, PreviewInfo } from '../../nodes/core/definition';
import type { NodeRunState } from '../../nodes/core/protocol';
import type { FrameSet, OutputFile } from '../../nodes/core/values';
import { validateWorkflow, type Registry, type ValidatedGraph } from '../../nodes/core/validate';
import type { Workflow, WorkflowProblem } from '../../nodes/core/workflow';
import { cacheKey, type NodeOutputCache } from './cache';
import { confinePath } from './paths';
import { SeededRng, seedFromString } from './rng';

export interface Models extends ModelAccess {
  fileHash(pack: string, role: string): string;
  missing(pack: string, role: string): string | null;
  lists(pack: string, role: string): boolean;
}

export type ExecEvent =
  | { type: 'node.started'; nodeId: string }
  | { type: 'node.progress'; nodeId: string; done: number; total: number; label?: string; etaMs?: number }
  | { type: 'node.cached'; nodeId: string; output?: NodeRunState['output'] }
  | { type: 'node.finished'; nodeId: string; ms: number; output?: NodeRunState['output'] }
  | { type: 'node.error'; nodeId: string; message: string }
  | { type: 'node.skipped'; nodeId: string };

export interface ExecuteOptions {
  registry: Registry;
  models: Models;
  cache: NodeOutputCache;
  signal: AbortSignal;
  outputDir: string;
  /** Folders input files (images, videos) may come from. */
  inputRoots: readonly string[];
  onEvent?: (event: ExecEvent) => void;
  onPreview?: (nodeId: string, frames: FrameSet, info: PreviewInfo) => void;
  /** Each node's outputs as soon as it has them (computed or cached). */
  onNodeOutputs?: (nodeId: string, outputs: Record<string, unknown>) => void;
}

export interface ExecuteResult {
  outputs: Map<string, Record<string, unknown>>;
  files: { node: string; file: OutputFile }[];
  nodeMs: Map<string, number>;
  cachedNodes: string[];
}

export class WorkflowInvalidError extends Error {
  override name = 'WorkflowInvalidError';
  constructor(readonly problems: WorkflowProblem[]) {
    super(`the workflow is invalid:\n${problems.map((p) => `  - ${p.node ? `node "${p.node}"` : 'workflow'}${p.field ? ` (${p.field})` : ''}: ${p.message}`).join('\n')}`);
  }
}

export class NodeFailedError extends Error {
  override name = 'NodeFailedError';
  constructor(
    readonly nodeId: string,
    readonly nodeType: string,
    readonly reason: string,
  ) {
    super(`node "${nodeId}" (${nodeType}) failed: ${reason}`);
  }
}

export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('the job was cancelled');
  }
}

export function isCancellation(error: unknown, signal?: AbortSignal): boolean {
  return error instanceof CancelledError || (signal?.aborted === true && error instanceof Error && error.name === 'AbortError');
}

/** The models a node will use with these params: its optional ones only where the pack lists them. */
function usedModels(def: NodeDefinition, params: Record<string, unknown>, models: Models) {
  return (def.models?.(params as never) ?? []).filter((ref) => !ref.optional || models.lists(ref.pack, ref.role));
}

/** Checks that need the packs, shared by validation in the server, the CLI and the editor. */
export function nodeChecker(models: Models) {
  return (def: NodeDefinition, params: Record<string, unknown>) => {
    const problems: { field: string; message: string; code: 'missing-model' | 'invalid-param' }[] = [];
    for (const ref of usedModels(def, params, models)) {
      const missing = models.missing(ref.pack, ref.role);
      if (missing) problems.push({ field: 'params.pack', message: missing, code: 'missing-model' });
    }
    if (problems.length === 0 && def.check) {
      for (const p of def.check(params as never, models)) problems.push({ ...p, code: 'invalid-param' });
    }
    return problems;
  };
}

export function validateFor(workflow: Workflow, registry: Registry, models: Models) {
  return validateWorkflow(workflow, registry, { checkNode: nodeChecker(models) });
}

/** Short description of a node's main output, for job state and events. */
export function describeOutputs(outputs: Record<string, unknown>): NodeRunState['output'] {
  for (const value of Object.values(outputs)) {
    if (value && typeof value === 'object' && 'frames' in value && Array.isArray((value as FrameSet).frames)) {
      const f = value as FrameSet;
      return { kind: 'frames', frames: f.frames.length, width: f.width, height: f.height, fps: f.fps };
    }
    if (value && typeof value === 'object' && 'mime' in value && 'path' in value) {
      const f = value as OutputFile;
      return { kind: 'file', frames: f.frames, width: f.width, height: f.height, fps: f.fps };
    }
    if (value && typeof value === 'object' && 'embedding' in value) return { kind: 'embedding' };
  }
  return undefined;
}

function outputHash(key: string, port: string): string {
  return `${key}:${port}`;
}

export async function executeWorkflow(workflow: Workflow, options: ExecuteOptions): Promise<ExecuteResult> {
  const validation = validateFor(workflow, options.registry, options.models);
  if (!validation.ok) throw new WorkflowInvalidError(validation.problems);
  return executeGraph(validation.graph, options);
}

export async function executeGraph(graph: ValidatedGraph, options: ExecuteOptions): Promise<ExecuteResult> {
  const { registry, models, cache, signal } = options;
  const emit = options.onEvent ?? (() => {});
  const outputs = new Map<string, Record<string, unknown>>();
  const hashes = new Map<string, Record<string, string>>();
  const files: ExecuteResult['files'] = [];
  const nodeMs = new Map<string, number>();
  const cachedNodes: string[] = [];
  const throwIfAborted = () => {
    if (signal.aborted) throw new CancelledError();
  };
  const workflowSeed = jobSeed(graph);

  for (let index = 0; index < graph.order.length; index++) {
    throwIfAborted();
    const nodeId = graph.order[index]!;
    const node = graph.workflow.nodes.find((n) => n.id === nodeId)!;
    const def = registry[node.type]!;
    const params = graph.params.get(nodeId)!;
    const incoming = graph.incoming.get(nodeId) ?? new Map<string, { node: string; port: string }>();

    const inputs: Record<string, unknown> = {};
    const inputHashes: Record<string, string> = {};
    for (const [port, from] of incoming) {
      inputs[port] = outputs.get(from.node)?.[from.port];
      inputHashes[port] = hashes.get(from.node)?.[from.port] ?? 'missing';
    }

    const resolveInputPath = (userPath: string, field: string) => confinePath(userPath, options.inputRoots, `node "${nodeId}", ${field}`);
    let key: string;
    try {
      key = cacheKey({
        type: def.type,
        version: def.version,
        params,
        modelHashes: usedModels(def, params, models).map((ref) => models.fileHash(ref.pack, ref.role)),
        inputHashes,
        fingerprint: def.fingerprint ? await def.fingerprint(params as never, { resolveInputPath }) : undefined,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      emit({ type: 'node.error', nodeId, message: reason });
      skipRest(graph, index, emit);
      throw new NodeFailedError(nodeId, def.type, reason);
    }

    const cached = def.volatile ? undefined : cache.get(key);
    if (cached) {
      outputs.set(nodeId, cached);
      hashes.set(nodeId, Object.fromEntries(Object.keys(def.outputs).map((p) => [p, outputHash(key, p)])));
      cachedNodes.push(nodeId);
      collectFiles(nodeId, cached, files);
      options.onNodeOutputs?.(nodeId, cached);
      emit({ type: 'node.cached', nodeId, output: describeOutputs(cached) });
      continue;
    }

    emit({ type: 'node.started', nodeId });
    const started = performance.now();
    const rngSeed = typeof params.seed === 'number' ? params.seed : (seedFromString(nodeId) ^ (workflowSeed ?? 0)) >>> 0;
    const ctx: ExecContext = {
      nodeId,
      models,
      rng: new SeededRng(rngSeed),
      signal,
      workflow: graph.workflow,
      seed: workflowSeed,
      outputDir: options.outputDir,
      resolveInputPath,
      throwIfAborted,
      progress: (done, total, label) => {
        const elapsed = performance.now() - started;
        const etaMs = done > 0 && total > done ? Math.round((elapsed / done) * (total - done)) : undefined;
        emit({ type: 'node.progress', nodeId, done, total, label, etaMs });
      },
      preview: (frames, info) => options.onPreview?.(nodeId, frames, info),
      previewing: options.onPreview !== undefined,
    };

    let produced: Record<string, unknown>;
    try {
      produced = (await def.execute(ctx, inputs as never, params as never)) as Record<string, unknown>;
      throwIfAborted();
    } catch (error) {
      if (isCancellation(error, signal)) throw new CancelledError();
      const reason = error instanceof Error ? error.message : String(error);
      emit({ type: 'node.error', nodeId, message: reason });
      skipRest(graph, index, emit);
      throw new NodeFailedError(nodeId, def.type, reason);
    }
    const ms = performance.now() - started;
    nodeMs.set(nodeId, ms);
    outputs.set(nodeId, produced);
    hashes.set(nodeId, Object.fromEntries(Object.keys(def.outputs).map((p) => [p, outputHash(key, p)])));
    if (!def.volatile) cache.set(key, produced);
    collectFiles(nodeId, produced, files);
    options.onNodeOutputs?.(nodeId, produced);
    emit({ type: 'node.finished', nodeId, ms: Math.round(ms), output: describeOutputs(produced) });
  }
  return { outputs, files, nodeMs, cachedNodes };
}

/** The job's seed: the first "seed" param in file order (the CLI's --seed sets them all). */
export function jobSeed(graph: Pick<ValidatedGraph, 'workflow' | 'params'>): number | null {
  for (const node of graph.workflow.nodes) {
    const seed = graph.params.get(node.id)?.seed;
    if (typeof seed === 'number') return seed;
  }
  return null;
}

function skipRest(graph: ValidatedGraph, failedIndex: number, emit: (e: ExecEvent) => void): void {
  for (const id of graph.order.slice(failedIndex + 1)) emit({ type: 'node.skipped', nodeId: id });
}

function collectFiles(nodeId: string, produced: Record<string, unknown>, files: ExecuteResult['files']): void {
  for (const value of Object.values(produced)) {
    if (value && typeof value === 'object' && 'mime' in value && 'path' in value) files.push({ node: nodeId, file: value as OutputFile });
  }
}
