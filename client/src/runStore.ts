/**
 * Jobs and node run states, kept outside React so progress events (many per second)
 * re-render only the node they concern. Listeners are told once per animation frame.
 */
import { useSyncExternalStore } from 'react';
import type { JobSummary, NodeRunState, ServerEvent } from '../../nodes/core/protocol';

type Listener = () => void;

const STATUS_RANK: Record<string, number> = { running: 0, pending: 1 };

export class RunStore {
  private jobs = new Map<string, JobSummary>();
  private seenAt = new Map<string, number>();
  private list: JobSummary[] = [];
  private listeners = new Set<Listener>();
  private scheduled = false;
  activeJobId: string | null = null;
  /** Called once per job when it finishes, for the page to react (switch to the result). */
  onFinished?: (job: JobSummary) => void;

  subscribe = (l: Listener) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private changed() {
    this.list = [...this.jobs.values()].sort(
      (a, b) => (STATUS_RANK[a.status] ?? 2) - (STATUS_RANK[b.status] ?? 2) || b.createdAt.localeCompare(a.createdAt),
    );
    if (this.scheduled) return;
    this.scheduled = true;
    const flush = () => {
      this.scheduled = false;
      for (const l of this.listeners) l();
    };
    // rAF does not run in a hidden tab; a timeout keeps state current there.
    if (typeof document !== 'undefined' && document.visibilityState === 'visible') requestAnimationFrame(flush);
    else setTimeout(flush, 50);
  }

  getJobs = () => this.list;
  getJob = (id: string | null) => (id ? this.jobs.get(id) : undefined);
  getActive = () => this.getJob(this.activeJobId);
  nodeState = (nodeId: string): NodeRunState | undefined => this.getActive()?.nodes[nodeId];

  setActive(id: string | null) {
    this.activeJobId = id;
    this.changed();
  }

  /**
   * Merges a fetched job list. The socket's events may be newer than the list (they can
   * overtake the HTTP answer), so a job already here is kept; jobs the server no longer
   * has are dropped, unless they appeared since the request was sent.
   */
  mergeList(jobs: JobSummary[], requestedAt: number) {
    const listed = new Set(jobs.map((j) => j.id));
    for (const id of [...this.jobs.keys()]) if (!listed.has(id) && (this.seenAt.get(id) ?? 0) < requestedAt) this.jobs.delete(id);
    for (const j of jobs) this.add(j);
    this.changed();
  }

  /** A job from an HTTP answer: the socket may already have told us more about it. */
  add(job: JobSummary) {
    if (this.jobs.has(job.id)) return;
    this.jobs.set(job.id, job);
    this.seenAt.set(job.id, performance.now());
    this.changed();
  }

  private patch(jobId: string, fn: (job: JobSummary) => JobSummary) {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.jobs.set(jobId, fn(job));
    this.changed();
  }

  private patchNode(jobId: string, nodeId: string, fn: (s: NodeRunState) => NodeRunState) {
    this.patch(jobId, (job) => ({
      ...job,
      nodes: { ...job.nodes, [nodeId]: fn(job.nodes[nodeId] ?? { state: 'waiting', done: 0, total: 0 }) },
    }));
  }

  apply(ev: ServerEvent) {
    switch (ev.type) {
      case 'job.queued':
      case 'job.state': {
        const before = this.jobs.get(ev.job.id);
        this.jobs.set(ev.job.id, ev.job);
        if (!before) this.seenAt.set(ev.job.id, performance.now());
        this.changed();
        if (before && before.status !== 'finished' && ev.job.status === 'finished') this.onFinished?.(ev.job);
        break;
      }
      case 'job.started':
        this.patch(ev.jobId, (j) => ({ ...j, status: 'running', startedAt: ev.at, queuePosition: undefined }));
        break;
      case 'node.started':
        this.patchNode(ev.jobId, ev.nodeId, () => ({ state: 'running', done: 0, total: 0 }));
        break;
      case 'node.progress':
        this.patchNode(ev.jobId, ev.nodeId, (s) => ({ ...s, state: 'running', done: ev.done, total: ev.total, label: ev.label }));
        break;
      case 'node.cached':
        this.patchNode(ev.jobId, ev.nodeId, (s) => ({ ...s, state: 'cached', output: ev.output ?? s.output }));
        break;
      case 'node.finished':
        this.patchNode(ev.jobId, ev.nodeId, (s) => ({ ...s, state: 'done', ms: ev.ms, done: s.total || s.done, output: ev.output ?? s.output }));
        break;
      case 'node.error':
        this.patchNode(ev.jobId, ev.nodeId, (s) => ({ ...s, state: 'failed', error: ev.message }));
        break;
      case 'job.error':
        this.patch(ev.jobId, (j) => ({
          ...j,
          status: 'failed',
          error: ev.message,
          problems: ev.problems ?? j.problems,
          nodes: settle(j.nodes, { running: 'failed', waiting: 'skipped' }),
        }));
        break;
      case 'job.cancelled':
        // The server sends no per-node events for a cancel: settle what was in flight.
        this.patch(ev.jobId, (j) => ({ ...j, status: 'cancelled', nodes: settle(j.nodes, { running: 'cancelled', waiting: 'cancelled' }) }));
        break;
      case 'job.finished': {
        const job = this.jobs.get(ev.jobId);
        this.patch(ev.jobId, (j) => ({ ...j, status: 'finished', ms: ev.ms, files: ev.files, finishedAt: new Date().toISOString() }));
        const after = this.jobs.get(ev.jobId);
        if (job && after && job.status !== 'finished') this.onFinished?.(after);
        break;
      }
      case 'job.removed':
        this.jobs.delete(ev.jobId);
        this.seenAt.delete(ev.jobId);
        this.changed();
        break;
      default:
        break;
    }
  }
}

function settle(nodes: JobSummary['nodes'], to: Partial<Record<NodeRunState['state'], NodeRunState['state']>>): JobSummary['nodes'] {
  const out: JobSummary['nodes'] = {};
  for (const [id, n] of Object.entries(nodes)) out[id] = to[n.state] ? { ...n, state: to[n.state]! } : n;
  return out;
}

export const runStore = new RunStore();

export function useJobs() {
  return useSyncExternalStore(runStore.subscribe, runStore.getJobs);
}
export function useActiveJob() {
  return useSyncExternalStore(runStore.subscribe, runStore.getActive);
}
export function useNodeRunState(nodeId: string) {
  return useSyncExternalStore(runStore.subscribe, () => runStore.nodeState(nodeId));
}

/** The server keeps a node's frames for the inspector once the whole job has finished. */
export function framesReady(job: JobSummary | undefined, id: string): boolean {
  const s = job?.nodes[id];
  return job?.status === 'finished' && (s?.state === 'done' || s?.state === 'cached') && (s.output?.frames ?? 0) > 0;
}

export function useActiveJobStatus() {
  return useSyncExternalStore(runStore.subscribe, () => runStore.getActive()?.status);
}
