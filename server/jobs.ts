/**
 * The job queue: FIFO, one job at a time per device, with a history of finished jobs
 * (workflow, seed, timings, output files) persisted under the data folder so a restart
 * loses no finished output. It turns executor events into protocol events.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { PreviewInfo } from '../nodes/core/definition';
import type { JobFile, JobSummary, NodeRunState, ServerEvent } from '../nodes/core/protocol';
import type { FrameSet } from '../nodes/core/values';
import type { Registry } from '../nodes/core/validate';
import { parseWorkflow, type Workflow, type WorkflowProblem } from '../nodes/core/workflow';
import { NodeOutputCache } from './engine/cache';
import { CancelledError, executeGraph, NodeFailedError, validateFor, WorkflowInvalidError } from './engine/executor';
import { applyOverrides } from './engine/overrides';
import { ModelRuntime, type Device } from './runtime/models';

export interface JobRecord {
  summary: JobSummary;
  workflow: Workflow;
  abort: AbortController;
  /** Frames of each node's main output, for the inspector (kept for recent jobs only). */
  nodeFrames: Map<string, FrameSet>;
  /** Sampling-step estimates per node: steps[step] = frames. */
  stepFrames: Map<string, Map<number, FrameSet>>;
}

export interface JobQueueOptions {
  registry: Registry;
  modelsDir: string;
  dataDir: string;
  inputRoots: string[];
  cacheBytes?: number;
  /** How many finished jobs keep their intermediate frames in memory. */
  keepFramesFor?: number;
}

export interface PreviewEvent {
  jobId: string;
  nodeId: string;
  frames: FrameSet;
  info: PreviewInfo;
  at: number;
}

export class JobQueue extends EventEmitter<{ event: [ServerEvent]; preview: [PreviewEvent] }> {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly pending: string[] = [];
  private running: string | null = null;
  private readonly runtimes = new Map<Device, ModelRuntime>();
  readonly cache: NodeOutputCache;
  readonly jobsDir: string;

  constructor(readonly options: JobQueueOptions) {
    super();
    this.cache = new NodeOutputCache(options.cacheBytes ?? 1024 * 1024 * 1024);
    this.jobsDir = path.join(options.dataDir, 'jobs');
    mkdirSync(this.jobsDir, { recursive: true });
    this.loadHistory();
  }

  runtime(device: Device = 'cpu'): ModelRuntime {
    let runtime = this.runtimes.get(device);
    if (!runtime) {
      runtime = new ModelRuntime(this.options.modelsDir, device);
      this.runtimes.set(device, runtime);
    }
    return runtime;
  }

  private loadHistory(): void {
    for (const entry of readdirSync(this.jobsDir, { withFileTypes: true })) {
      const file = path.join(this.jobsDir, entry.name, 'job.json');
      if (!entry.isDirectory() || !existsSync(file)) continue;
      try {
        const saved = JSON.parse(readFileSync(file, 'utf8')) as { summary: JobSummary; workflow: Workflow };
        this.jobs.set(saved.summary.id, {
          summary: saved.summary,
          workflow: saved.workflow,
          abort: new AbortController(),
          nodeFrames: new Map(),
          stepFrames: new Map(),
        });
      } catch {
        // A job folder without a readable job.json was never finished; leave it alone.
      }
    }
  }

  /** Parses, applies overrides and validates; throws WorkflowInvalidError with every problem. */
  prepare(raw: unknown, opts: { seed?: number; set?: Record<string, unknown>; device?: Device } = {}): Workflow {
    const parsed = parseWorkflow(raw);
    if (!parsed.ok) throw new WorkflowInvalidError(parsed.problems);
    return applyOverrides(parsed.workflow, this.options.registry, { seed: opts.seed, set: opts.set }, (w) => {
      const validation = validateFor(w, this.options.registry, this.runtime(opts.device ?? 'cpu'));
      return validation.ok ? [] : validation.problems;
    });
  }

  validate(raw: unknown): WorkflowProblem[] {
    try {
      this.prepare(raw);
      return [];
    } catch (error) {
      if (error instanceof WorkflowInvalidError) return error.problems;
      throw error;
    }
  }

  submit(raw: unknown, opts: { seed?: number; set?: Record<string, unknown>; device?: Device } = {}): JobSummary {
    const device = opts.device ?? 'cpu';
    const workflow = this.prepare(raw, opts);
    const id = `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
    const nodes: Record<string, NodeRunState> = {};
    for (const n of workflow.nodes) nodes[n.id] = { state: 'waiting', done: 0, total: 0 };
    const seeds = workflow.nodes.map((n) => n.params.seed).filter((s): s is number => typeof s === 'number');
    const summary: JobSummary = {
      id,
      name: workflow.name,
      status: 'pending',
      device,
      seed: opts.seed ?? seeds[0] ?? null,
      createdAt: new Date().toISOString(),
      nodes,
      files: [],
    };
    this.jobs.set(id, { summary, workflow, abort: new AbortController(), nodeFrames: new Map(), stepFrames: new Map() });
    this.pending.push(id);
    this.updatePositions();
    this.emit('event', { type: 'job.queued', job: summary });
    queueMicrotask(() => void this.pump());
    return summary;
  }

  private updatePositions(): void {
    this.pending.forEach((id, i) => {
      const job = this.jobs.get(id);
      if (job) job.summary.queuePosition = i;
    });
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  list(): JobSummary[] {
    const order = { running: 0, pending: 1, finished: 2, failed: 2, cancelled: 2 } as const;
    return [...this.jobs.values()]
      .map((j) => j.summary)
      .sort((a, b) => order[a.status] - order[b.status] || (a.status === 'pending' ? a.createdAt.localeCompare(b.createdAt) : b.createdAt.localeCompare(a.createdAt)));
  }

  /** Cancels a running job cooperatively or drops a pending one. */
  cancel(id: string): JobSummary | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (job.summary.status === 'pending') {
      this.pending.splice(this.pending.indexOf(id), 1);
      this.updatePositions();
      job.summary.status = 'cancelled';
      job.summary.finishedAt = new Date().toISOString();
      for (const n of Object.values(job.summary.nodes)) n.state = 'cancelled';
      this.persist(job);
      this.emit('event', { type: 'job.cancelled', jobId: id });
    } else if (job.summary.status === 'running') {
      job.abort.abort();
    }
    return job.summary;
  }

  /** Removes a pending job or a finished one (with its files). Running jobs must be cancelled first. */
  remove(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job || job.summary.status === 'running') return false;
    if (job.summary.status === 'pending') {
      this.pending.splice(this.pending.indexOf(id), 1);
      this.updatePositions();
    }
    this.jobs.delete(id);
    rmSync(path.join(this.jobsDir, id), { recursive: true, force: true });
    this.emit('event', { type: 'job.removed', jobId: id });
    return true;
  }

  outputDir(id: string): string {
    return path.join(this.jobsDir, id, 'files');
  }

  private persist(job: JobRecord): void {
    const dir = path.join(this.jobsDir, job.summary.id);
    mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, 'job.json.tmp');
    writeFileSync(tmp, JSON.stringify({ summary: job.summary, workflow: job.workflow }, null, 1));
    renameSync(tmp, path.join(dir, 'job.json'));
  }

  /** Resolves when no job is pending or running. */
  async idle(): Promise<void> {
    while (this.running || this.pending.length > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const id = this.pending.shift();
    if (!id) return;
    this.updatePositions();
    const job = this.jobs.get(id)!;
    this.running = id;
    try {
      await this.run(job);
    } finally {
      this.running = null;
      this.trimFrames();
      void this.pump();
    }
  }

  private trimFrames(): void {
    const keep = this.options.keepFramesFor ?? 8;
    const finished = [...this.jobs.values()].filter((j) => j.nodeFrames.size > 0 && j.summary.status !== 'running');
    finished.sort((a, b) => b.summary.createdAt.localeCompare(a.summary.createdAt));
    for (const job of finished.slice(keep)) {
      job.nodeFrames.clear();
      job.stepFrames.clear();
    }
  }

  private async run(job: JobRecord): Promise<void> {
    const s = job.summary;
    const started = performance.now();
    s.status = 'running';
    s.startedAt = new Date().toISOString();
    delete s.queuePosition;
    this.emit('event', { type: 'job.started', jobId: s.id, at: s.startedAt });
    const outputDir = this.outputDir(s.id);
    mkdirSync(outputDir, { recursive: true });
    const runtime = this.runtime(s.device);
    try {
      const validation = validateFor(job.workflow, this.options.registry, runtime);
      if (!validation.ok) throw new WorkflowInvalidError(validation.problems);
      const result = await executeGraph(validation.graph, {
        registry: this.options.registry,
        models: runtime,
        cache: this.cache,
        signal: job.abort.signal,
        outputDir,
        inputRoots: this.options.inputRoots,
        onEvent: (e) => {
          const node = s.nodes[e.nodeId];
          if (!node) return;
          switch (e.type) {
            case 'node.started':
              node.state = 'running';
              break;
            case 'node.progress':
              node.done = e.done;
              node.total = e.total;
              node.label = e.label;
              break;
            case 'node.cached':
              node.state = 'cached';
              node.output = e.output;
              break;
            case 'node.finished':
              node.state = 'done';
              node.ms = e.ms;
              node.output = e.output;
              break;
            case 'node.error':
              node.state = 'failed';
              node.error = e.message;
              break;
            case 'node.skipped':
              node.state = 'skipped';
              return;
          }
          this.emit('event', { ...e, jobId: s.id });
        },
        onNodeOutputs: (nodeId, outputs) => {
          const frames = Object.values(outputs).find((v): v is FrameSet => !!v && typeof v === 'object' && Array.isArray((v as FrameSet).frames));
          if (frames) job.nodeFrames.set(nodeId, frames);
        },
        onPreview: (nodeId, frames, info) => {
          if (info.kind === 'step' && info.step !== undefined) {
            let steps = job.stepFrames.get(nodeId);
            if (!steps) job.stepFrames.set(nodeId, (steps = new Map()));
            steps.set(info.step, frames);
          }
          this.emit('preview', { jobId: s.id, nodeId, frames, info, at: Date.now() });
        },
      });
      s.files = result.files.map(({ node, file }): JobFile => {
        // Files from a cached export live in an older job's folder; the URL names that job.
        const owner = path.basename(path.dirname(path.dirname(file.path)));
        return { node, name: file.name, url: `/api/jobs/${owner}/files/${encodeURIComponent(file.name)}`, mime: file.mime, bytes: file.bytes };
      });
      s.status = 'finished';
      s.ms = Math.round(performance.now() - started);
      s.finishedAt = new Date().toISOString();
      this.persist(job);
      this.emit('event', { type: 'job.finished', jobId: s.id, ms: s.ms, files: s.files });
    } catch (error) {
      s.ms = Math.round(performance.now() - started);
      s.finishedAt = new Date().toISOString();
      if (error instanceof CancelledError) {
        s.status = 'cancelled';
        for (const n of Object.values(s.nodes)) if (n.state === 'running' || n.state === 'waiting') n.state = 'cancelled';
        this.persist(job);
        this.emit('event', { type: 'job.cancelled', jobId: s.id });
        this.emit('event', { type: 'job.state', job: s });
      } else {
        s.status = 'failed';
        s.error = error instanceof Error ? error.message : String(error);
        if (error instanceof WorkflowInvalidError) s.problems = error.problems;
        if (!(error instanceof NodeFailedError) && !(error instanceof WorkflowInvalidError)) console.error(error);
        this.persist(job);
        this.emit('event', { type: 'job.error', jobId: s.id, message: s.error, problems: s.problems });
        this.emit('event', { type: 'job.state', job: s });
      }
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.pending]) this.cancel(id);
    if (this.running) this.jobs.get(this.running)?.abort.abort();
    await this.idle();
    for (const r of this.runtimes.values()) await r.release();
  }
}
