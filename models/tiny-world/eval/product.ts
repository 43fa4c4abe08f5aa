/**
 * Generating through the product: the default workflow file, the node registry and the
 * executor, exactly as `npm run generate` runs them, with only the prompt, the seeds and
 * (for the ablation) the decoder's text input changed. No model is called directly.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Registry } from '../../../nodes/core/validate';
import { parseWorkflow, type Workflow } from '../../../nodes/core/workflow';
import type { NodeOutputCache } from '../../../server/engine/cache';
import { executeWorkflow, type Models } from '../../../server/engine/executor';
import { applyOverrides } from '../../../server/engine/overrides';
import type { Video } from '../world/analyze';

export interface EvalWorkflow {
  workflow: Workflow;
  /** The node whose frames are judged: what the export node receives. */
  judgedNode: string;
  /** The export node, when it was kept. */
  exportNode: string | null;
  /** Every node that runs the diffusion decoder (keyframes, refine): the ablation turns the decoder's text off in all of them. */
  decoderNodes: string[];
  /** Changes made to the default workflow, for the report. */
  notes: string[];
}

export function loadWorkflowFile(file: string): Workflow {
  const parsed = parseWorkflow(readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error(`${file} is not a valid workflow: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return parsed.workflow;
}

function frameSource(workflow: Workflow, nodeId: string): { node: string; port: string } {
  const edge = workflow.edges.find((e) => e.to.node === nodeId && e.to.port === 'frames');
  if (edge === undefined) throw new Error(`node "${nodeId}" has no "frames" input connected`);
  return edge.from;
}

/** Removes a frames -> frames node, connecting whatever it fed to whatever fed it. */
function bypass(workflow: Workflow, nodeId: string): void {
  const source = frameSource(workflow, nodeId);
  workflow.edges = workflow.edges
    .filter((e) => e.to.node !== nodeId)
    .map((e) => (e.from.node === nodeId ? { ...e, from: source } : e));
  workflow.nodes = workflow.nodes.filter((n) => n.id !== nodeId);
}

/**
 * The default workflow prepared for the eval. The export node only encodes the frames it
 * receives, so judging its input is judging the video; dropping it saves the encode. A
 * node type the registry does not know yet (the upscale node while it lands) is bypassed
 * and said so, rather than failing the whole eval.
 */
export function prepareEvalWorkflow(base: Workflow, registry: Registry, options: { keepExport: boolean }): EvalWorkflow {
  const workflow = structuredClone(base);
  const notes: string[] = [];
  const single = (type: string): string => {
    const found = workflow.nodes.filter((n) => n.type === type);
    if (found.length !== 1) throw new Error(`the eval expects exactly one "${type}" node in the workflow, found ${found.length}`);
    return found[0]!.id;
  };
  const exportId = single('export');
  const decoderNodes = workflow.nodes.filter((n) => n.type === 'keyframes' || n.type === 'refine').map((n) => n.id);
  if (!workflow.nodes.some((n) => n.type === 'keyframes')) throw new Error('the eval expects at least one "keyframes" node in the workflow, found none');
  single('prompt');
  for (const node of [...workflow.nodes]) {
    if (registry[node.type] !== undefined) continue;
    const judgedBefore = frameSource(workflow, node.id).node;
    bypass(workflow, node.id);
    notes.push(`node "${node.id}" (type "${node.type}") is not in the registry yet: bypassed, so the frames of "${judgedBefore}" are judged instead`);
  }
  const judgedNode = frameSource(workflow, exportId).node;
  if (!options.keepExport) {
    workflow.edges = workflow.edges.filter((e) => e.to.node !== exportId && e.from.node !== exportId);
    workflow.nodes = workflow.nodes.filter((n) => n.id !== exportId);
  }
  return { workflow, judgedNode, exportNode: options.keepExport ? exportId : null, decoderNodes, notes };
}

/** The workflow for one prompt: its text, its seed on every seeded node, and the ablation switch. */
export function workflowForPrompt(prepared: EvalWorkflow, registry: Registry, prompt: { caption: string; seed: number }, decoderText: boolean): Workflow {
  return applyOverrides(prepared.workflow, registry, {
    prompt: prompt.caption,
    seed: prompt.seed,
    set: Object.fromEntries(prepared.decoderNodes.map((id) => [`${id}.decoderText`, decoderText])),
  });
}

const FrameSetSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number(),
  frames: z.array(z.instanceof(Uint8Array)).min(1),
});

export interface ProductVideo {
  video: Video;
  fps: number;
  ms: number;
  /** Milliseconds per node that ran (cached nodes are absent). */
  nodeMs: Record<string, number>;
  /** Path of the exported file, when the export node ran. */
  exportedFile: string | null;
}

export interface ProductContext {
  registry: Registry;
  models: Models;
  cache: NodeOutputCache;
  outputDir: string;
  inputRoots: string[];
  signal: AbortSignal;
}

export async function generateVideo(prepared: EvalWorkflow, workflow: Workflow, context: ProductContext): Promise<ProductVideo> {
  const started = performance.now();
  const result = await executeWorkflow(workflow, context);
  const ms = performance.now() - started;
  const set = FrameSetSchema.parse(result.outputs.get(prepared.judgedNode)?.frames);
  for (const frame of set.frames) {
    if (frame.length !== set.width * set.height * 3) throw new Error(`node "${prepared.judgedNode}" gave a frame of ${frame.length} bytes, not ${set.width}x${set.height} RGB`);
  }
  const file = prepared.exportNode === null ? undefined : result.files.find((f) => f.node === prepared.exportNode);
  return {
    video: { width: set.width, height: set.height, frames: set.frames },
    fps: set.fps,
    ms,
    nodeMs: Object.fromEntries([...result.nodeMs].map(([node, time]) => [node, Math.round(time)])),
    exportedFile: file === undefined ? null : path.resolve(context.outputDir, file.file.path),
  };
}
