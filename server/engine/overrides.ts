/**
 * Command-line and API overrides: `--seed` sets every node's "seed" param and
 * `--set node.param=value` any one param, before validation, so overridden values are
 * checked like any other.
 */
import type { Registry } from '../../nodes/core/validate';
import type { Workflow, WorkflowProblem } from '../../nodes/core/workflow';
import { WorkflowInvalidError } from './executor';

/** Applies overrides and returns the problems with them (so they can be listed with the rest). */
export function applyOverridesCollecting(
  workflow: Workflow,
  registry: Registry,
  overrides: { seed?: number; set?: Record<string, unknown>; prompt?: string },
): { workflow: Workflow; problems: WorkflowProblem[] } {
  const copy: Workflow = structuredClone(workflow);
  const problems: WorkflowProblem[] = [];
  if (overrides.seed !== undefined) {
    for (const node of copy.nodes) {
      const def = registry[node.type];
      if (def && 'seed' in def.params.shape) node.params.seed = overrides.seed;
    }
  }
  if (overrides.prompt !== undefined) {
    const prompts = copy.nodes.filter((n) => n.type === 'prompt');
    if (prompts.length === 0) problems.push({ code: 'schema', field: 'prompt', message: 'the workflow has no prompt node to take --prompt' });
    for (const node of prompts) node.params.text = overrides.prompt;
  }
  for (const [target, value] of Object.entries(overrides.set ?? {})) {
    const dot = target.indexOf('.');
    const nodeId = dot > 0 ? target.slice(0, dot) : '';
    const param = dot > 0 ? target.slice(dot + 1) : '';
    const node = copy.nodes.find((n) => n.id === nodeId);
    if (!node || !param) {
      problems.push({
        code: 'schema',
        field: 'set',
        message: `cannot set "${target}": expected NODE.PARAM with a node id of this workflow (${copy.nodes.map((n) => n.id).join(', ')})`,
      });
      continue;
    }
    node.params[param] = value;
  }
  return { workflow: copy, problems };
}

/** Applies overrides and validates the result, reporting override and graph problems together. */
export function applyOverrides(
  workflow: Workflow,
  registry: Registry,
  overrides: { seed?: number; set?: Record<string, unknown>; prompt?: string },
  validate?: (w: Workflow) => WorkflowProblem[],
): Workflow {
  const { workflow: result, problems } = applyOverridesCollecting(workflow, registry, overrides);
  const all = [...problems, ...(validate?.(result) ?? [])];
  if (all.length > 0) throw new WorkflowInvalidError(all);
  return result;
}

/**
 * Command-line `--set NODE.PARAM=VALUE` items -> the `set` of applyOverrides. Returns the
 * first malformed item's message instead of throwing, so each tool reports it its own way.
 */
export function parseSetOverrides(items: readonly string[]): { set: Record<string, unknown> } | { error: string } {
  const set: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { error: `--set: expected NODE.PARAM=VALUE, got "${item}"` };
    set[item.slice(0, eq)] = parseOverrideValue(item.slice(eq + 1));
  }
  return { set };
}

/** Parses a CLI value: JSON when it parses (numbers, booleans, quoted strings), else the raw text. */
function parseOverrideValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
