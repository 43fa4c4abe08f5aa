/**
 * `npm run generate`: runs a workflow headless. Progress per node on stderr, output
 * paths on stdout, every workflow problem listed before anything runs.
 *
 * Exit codes: 0 done, 1 internal error, 2 bad command line, 3 invalid workflow,
 * 4 a node failed, 130 interrupted.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { registry } from '../nodes/registry';
import { parseWorkflow, type Workflow } from '../nodes/core/workflow';
import { NodeOutputCache } from './engine/cache';
import { CancelledError, executeWorkflow, NodeFailedError, validateFor, WorkflowInvalidError, type ExecEvent } from './engine/executor';
import { applyOverrides, parseSetOverrides } from './engine/overrides';
import { readWorkflowFromMedia } from '../nodes/lib/media-metadata';
import { DEFAULT_DATA_DIR, DEFAULT_WORKFLOW, MODELS_DIR, WORKFLOWS_DIR } from './paths';
import { ModelError, ModelRuntime, type Device } from './runtime/models';

const USAGE = `usage: npm run generate -- [options]
  --prompt TEXT        prompt for every prompt node
  --seed N             seed for every node that has one
  --out FILE           copy the exported file here (its extension picks the export format)
  --workflow FILE      workflow .json, or an exported .mp4/.webm/.gif/.png/.zip carrying one
                       (default: workflows/text-to-video.json)
  --set NODE.PARAM=V   override any parameter (V parsed as JSON when it parses), repeatable
  --device cpu|cuda    execution provider (default cpu)
  --quiet              no progress on stderr`;

class UsageError extends Error {}

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function loadWorkflow(file: string): Promise<unknown> {
  if (!existsSync(file)) throw new UsageError(`--workflow: no file "${file}"`);
  if (/\.(mp4|webm|gif|png|mov|zip)$/i.test(file)) {
    const found = await readWorkflowFromMedia(file);
    return found.workflow;
  }
  return readFileSync(file, 'utf8');
}

function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)}s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`;
}

function progressReporter(quiet: boolean) {
  const tty = process.stderr.isTTY;
  let lastLine = '';
  let lastDraw = 0;
  const draw = (line: string, final: boolean) => {
    if (quiet) return;
    if (tty) {
      process.stderr.write(`\r${line.padEnd(Math.max(lastLine.length, line.length))}${final ? '\n' : ''}`);
    } else if (final) {
      process.stderr.write(`${line}\n`);
    }
    lastLine = final ? '' : line;
  };
  return (e: ExecEvent) => {
    switch (e.type) {
      case 'node.started':
        draw(`[${e.nodeId}] running`, false);
        break;
      case 'node.progress': {
        const now = performance.now();
        if (now - lastDraw < 50 && e.done < e.total) return;
        lastDraw = now;
        const width = 24;
        const filled = e.total > 0 ? Math.round((width * e.done) / e.total) : 0;
        const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
        draw(`[${e.nodeId}] ${bar} ${e.done}/${e.total}${e.etaMs !== undefined ? ` ETA ${formatMs(e.etaMs)}` : ''}`, false);
        break;
      }
      case 'node.finished':
        draw(`[${e.nodeId}] done in ${formatMs(e.ms)}`, true);
        break;
      case 'node.cached':
        draw(`[${e.nodeId}] cached`, true);
        break;
      case 'node.error':
        draw(`[${e.nodeId}] failed: ${e.message}`, true);
        break;
      case 'node.skipped':
        break;
    }
  };
}

function pickExportFormat(workflow: Workflow, out: string, set: Record<string, unknown>): void {
  const ext = path.extname(out).slice(1).toLowerCase();
  const format = ({ mp4: 'mp4', webm: 'webm', gif: 'gif', png: 'png' } as Record<string, string>)[ext];
  const exports = workflow.nodes.filter((n) => n.type === 'export');
  if (!format || exports.length !== 1) return;
  const key = `${exports[0]!.id}.format`;
  if (!(key in set)) set[key] = format;
}

async function main(): Promise<number> {
  let parsedArgs;
  try {
    parsedArgs = parseArgs({
      options: {
        prompt: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        workflow: { type: 'string' },
        set: { type: 'string', multiple: true, default: [] },
        device: { type: 'string', default: 'cpu' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const args = parsedArgs.values;
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const device = args.device as Device;
  if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device: expected cpu or cuda, got "${args.device}"`);
  let seed: number | undefined;
  if (args.seed !== undefined) {
    seed = Number(args.seed);
    if (!/^\d+$/.test(args.seed) || !Number.isSafeInteger(seed) || seed > 4294967295) {
      throw new UsageError(`--seed: expected a whole number 0-4294967295, got "${args.seed}"`);
    }
  }
  const overrides = parseSetOverrides(args.set ?? []);
  if ('error' in overrides) throw new UsageError(overrides.error);
  const { set } = overrides;

  const workflowFile = args.workflow ?? DEFAULT_WORKFLOW;
  const parsed = parseWorkflow(await loadWorkflow(workflowFile));
  if (!parsed.ok) throw new WorkflowInvalidError(parsed.problems);
  if (args.out) pickExportFormat(parsed.workflow, args.out, set);
  const models = new ModelRuntime(MODELS_DIR, device);
  const workflow = applyOverrides(parsed.workflow, registry, { seed, set, prompt: args.prompt }, (w) => {
    const validation = validateFor(w, registry, models);
    return validation.ok ? [] : validation.problems;
  });

  const runDir = path.join(DEFAULT_DATA_DIR, 'cli', `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(runDir, { recursive: true });
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const started = performance.now();
  const result = await executeWorkflow(workflow, {
    registry,
    models,
    cache: new NodeOutputCache(512 * 1024 * 1024),
    signal: abort.signal,
    outputDir: runDir,
    inputRoots: [process.cwd(), path.join(WORKFLOWS_DIR, 'assets'), path.join(DEFAULT_DATA_DIR, 'uploads')],
    onEvent: progressReporter(args.quiet ?? false),
  });
  const outputs = result.files.map((f) => f.file.path);
  if (args.out) {
    if (outputs.length === 0) throw new UsageError('--out: the workflow wrote no file (it has no export node)');
    mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
    copyFileSync(outputs[0]!, args.out);
    outputs[0] = path.resolve(args.out);
  }
  for (const file of outputs) process.stdout.write(`${file}\n`);
  if (!args.quiet) process.stderr.write(`finished in ${formatMs(performance.now() - started)}\n`);
  await models.release();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) fail(2, `${error.message}\n\n${USAGE}`);
    if (error instanceof WorkflowInvalidError) fail(3, error.message);
    if (error instanceof NodeFailedError) fail(4, error.message);
    if (error instanceof ModelError) fail(4, error.message);
    if (error instanceof CancelledError) fail(130, 'interrupted');
    fail(1, error instanceof Error ? (error.stack ?? error.message) : String(error));
  },
);
