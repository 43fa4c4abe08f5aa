/**
 * What a node type is: typed ports, a params schema the editor builds widgets from, and
 * execute(). Everything a node may touch while running comes through ExecContext, so a
 * node cannot reach around the engine's cache, cancellation or preview throttling.
 */
import { z } from 'zod';
import type { InferenceSession } from 'onnxruntime-node';
import type { Manifest } from '../../models/manifest';
import type { PortKind } from './ports';
import type { FrameSet, PortValue } from './values';
import type { Workflow } from './workflow';

export interface PortSpec<K extends PortKind = PortKind> {
  kind: K;
  label: string;
  optional?: boolean;
  description?: string;
}

export type PortSpecs = Record<string, PortSpec>;

type ValueOf<S extends PortSpec> = S extends PortSpec<infer K> ? PortValue<K> : never;
export type InputValues<I extends PortSpecs> = {
  [P in keyof I]: I[P]['optional'] extends true ? ValueOf<I[P]> | undefined : ValueOf<I[P]>;
};
export type OutputValues<O extends PortSpecs> = { [P in keyof O]: ValueOf<O[P]> };

export interface TensorData {
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
  dims: readonly number[];
}

/** Access to model packs; implemented by server/runtime. */
export interface ModelAccess {
  manifest(pack: string): Manifest;
  /** Runs one model of a pack and returns its outputs by name. */
  run(pack: string, role: string, feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  /** The cached ONNX Runtime session, for libraries that drive a session themselves. */
  session(pack: string, role: string): Promise<InferenceSession>;
  /** Adds time spent inside ONNX Runtime by code that called session.run itself. */
  recordSessionTime(ms: number): void;
}

/** A deterministic random source of our own: same seed, same numbers, on every machine. */
export interface Rng {
  next(): number;
  normal(): number;
  fillNormal(target: Float32Array): Float32Array;
  int(maxExclusive: number): number;
}

export interface PreviewInfo {
  /** "step": an estimate during sampling; "frame": a finished output frame. */
  kind: 'step' | 'frame';
  step?: number;
  steps?: number;
  /** Index of the first frame in `frames` within the node's whole output. */
  firstFrame?: number;
  /** Total frames this node will produce. */
  count?: number;
}

export interface ExecContext {
  nodeId: string;
  models: ModelAccess;
  rng: Rng;
  signal: AbortSignal;
  progress(done: number, total: number, label?: string): void;
  preview(frames: FrameSet, info: PreviewInfo): void;
  /** False when nobody receives previews (CLI, eval): skip work done only to preview. */
  previewing: boolean;
  /** The whole workflow being run (export embeds it) and the job's seed (the first "seed" param, if any). */
  workflow: Workflow;
  seed: number | null;
  /** Folder where this job's outputs go (absolute). */
  outputDir: string;
  /** Resolves a user-given input path inside the allowed folders, or throws. */
  resolveInputPath(userPath: string, field: string): string;
  throwIfAborted(): void;
}

export interface ModelRef {
  pack: string;
  role: string;
  /** Used when the pack lists it (a pack may ship a model for one job, e.g. tiny-world's refiner); a pack without it is not an error. */
  optional?: boolean;
}

export interface NodeDefinition<
  I extends PortSpecs = PortSpecs,
  O extends PortSpecs = PortSpecs,
  P extends z.ZodObject = z.ZodObject,
> {
  type: string;
  version: number;
  title: string;
  category: 'text' | 'generate' | 'image' | 'video' | 'output';
  description: string;
  inputs: I;
  outputs: O;
  params: P;
  /** Models whose file hashes go into the cache key (given the parsed params). */
  models?: (params: z.infer<P>) => ModelRef[];
  /** True when the node must run every time (its outputs live outside the cache, e.g. files). */
  volatile?: boolean;
  /** Checks that need the model packs (e.g. a prompt's words against the vocabulary). */
  check?: (params: z.infer<P>, models: ModelAccess) => { field: string; message: string }[];
  /** Extra cache-key material, e.g. a hash of the input file a loader reads. */
  fingerprint?: (params: z.infer<P>, ctx: Pick<ExecContext, 'resolveInputPath'>) => Promise<string>;
  execute(ctx: ExecContext, inputs: InputValues<I>, params: z.infer<P>): Promise<OutputValues<O>>;
}

export function defineNode<I extends PortSpecs, O extends PortSpecs, P extends z.ZodObject>(
  def: NodeDefinition<I, O, P>,
): NodeDefinition<I, O, P> {
  return def;
}

/** Hints the editor reads from a param schema's metadata (zod .meta()). */
export interface WidgetMeta {
  widget?: 'textarea' | 'seed' | 'slider' | 'select' | 'path' | 'text' | 'number' | 'checkbox';
  label?: string;
  step?: number;
}

/** The JSON the server sends to the editor for its palette and widgets. */
export const NodeDescriptionSchema = z.object({
  type: z.string(),
  version: z.number(),
  title: z.string(),
  category: z.string(),
  description: z.string(),
  inputs: z.record(z.string(), z.object({ kind: z.string(), label: z.string(), optional: z.boolean().optional(), description: z.string().optional() })),
  outputs: z.record(z.string(), z.object({ kind: z.string(), label: z.string(), description: z.string().optional() })),
  /** JSON Schema (draft 2020-12) of the params, with widget hints in each property. */
  params: z.record(z.string(), z.unknown()),
});
export type NodeDescription = z.infer<typeof NodeDescriptionSchema>;

export function describeNode(def: NodeDefinition): NodeDescription {
  return {
    type: def.type,
    version: def.version,
    title: def.title,
    category: def.category,
    description: def.description,
    inputs: def.inputs,
    outputs: def.outputs,
    params: z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  };
}
