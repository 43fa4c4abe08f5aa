/**
 * Live preview frames from the socket. Decoding happens off the main thread
 * (createImageBitmap) and painting happens at most once per animation frame per
 * canvas, so a node that streams faster than the screen refreshes cannot stall the UI:
 * only the newest frame per node is kept while an older one is still decoding.
 */
import { useSyncExternalStore } from 'react';
import { decodePreview, type PreviewHeader } from '../../nodes/core/protocol';

interface Painted {
  header: PreviewHeader;
  bitmap: ImageBitmap;
  receivedAt: number;
}

interface Pending {
  header: PreviewHeader;
  blob: Blob;
  receivedAt: number;
}

export interface PreviewMetrics {
  /** performance.now() when Run was pressed. */
  runPressedAt: number | null;
  /** performance.now() when the first preview of the run after it was painted. */
  firstPaintAt: number | null;
  /** performance.now() of the latest paint: with firstPaintAt, the streaming window. */
  lastPaintAt: number | null;
  /** Frames painted per node for the active job. */
  painted: Record<string, number>;
  received: number;
  /** performance.now() of each node's first progress event with a step done, by "job/node". */
  firstProgressAt: Record<string, number>;
  /** Server clock when a preview was produced -> painted here (same machine: same clock), ms. */
  latency: Latency;
  /** Message received here -> painted: the editor's own share of the latency, ms. */
  clientLatency: Latency;
}

export interface Latency {
  first: number | null;
  max: number;
  sum: number;
  count: number;
}

export const emptyLatency = (): Latency => ({ first: null, max: 0, sum: 0, count: 0 });

function addLatency(l: Latency, ms: number) {
  l.first ??= ms;
  l.max = Math.max(l.max, ms);
  l.sum += ms;
  l.count += 1;
}

type Listener = () => void;

export class PreviewStore {
  private waiting = new Map<string, Pending>();
  private decoding = new Set<string>();
  private ready = new Map<string, Painted>();
  private latest = new Map<string, Painted>();
  private canvases = new Map<string, Set<HTMLCanvasElement>>();
  private listeners = new Set<Listener>();
  private rafPending = false;
  private jobId: string | null = null;
  private early = new Map<string, Pending>();
  readonly metrics: PreviewMetrics = { runPressedAt: null, firstPaintAt: null, lastPaintAt: null, painted: {}, received: 0, firstProgressAt: {}, latency: emptyLatency(), clientLatency: emptyLatency() };

  private key = (job: string, node: string) => `${job}\u0000${node}`;

  subscribe = (l: Listener) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  header = (nodeId: string): PreviewHeader | undefined => this.latest.get(nodeId)?.header;

  /** Follow one job: previews of other jobs are ignored, the canvases are cleared. */
  follow(jobId: string | null) {
    if (jobId === this.jobId) return;
    this.jobId = jobId;
    for (const p of this.latest.values()) p.bitmap.close();
    this.latest.clear();
    this.ready.clear();
    this.metrics.painted = {};
    for (const [node, set] of this.canvases) for (const c of set) this.blank(c, node);
    // Previews that arrived before the job id was known (the POST answer races the socket).
    for (const [k, v] of this.early) if (v.header.jobId === jobId) this.waiting.set(v.header.nodeId, v);
    this.early.clear();
    this.schedule();
    this.emit();
  }

  noteProgress(jobId: string, nodeId: string, done: number) {
    if (done < 1) return;
    const key = `${jobId}/${nodeId}`;
    this.metrics.firstProgressAt[key] ??= performance.now();
  }

  push(message: ArrayBuffer) {
    let decoded;
    try {
      decoded = decodePreview(message);
    } catch (error) {
      console.warn('bad preview message', error);
      return;
    }
    const { header, image } = decoded;
    this.metrics.received += 1;
    // A sampling step arrives as every frame of the clip; following one frame through
    // the steps shows how it emerges, and saves decoding the rest.
    if (header.kind === 'step' && header.frame !== 0) return;
    // Copy: the view points into the socket's buffer.
    const blob = new Blob([image.slice()], { type: header.mime });
    const receivedAt = performance.now();
    if (header.jobId !== this.jobId) {
      if (this.early.size > 64) this.early.clear();
      this.early.set(this.key(header.jobId, header.nodeId), { header, blob, receivedAt });
      return;
    }
    this.waiting.set(header.nodeId, { header, blob, receivedAt });
    this.schedule();
  }

  private schedule() {
    if (this.rafPending) return;
    this.rafPending = true;
    const run = () => {
      this.rafPending = false;
      this.tick();
    };
    if (document.visibilityState === 'visible') requestAnimationFrame(run);
    else setTimeout(run, 100);
  }

  private tick() {
    // Paint what finished decoding since the last frame.
    if (this.ready.size > 0) {
      for (const [node, p] of this.ready) {
        const old = this.latest.get(node);
        if (old && old.bitmap !== p.bitmap) old.bitmap.close();
        this.latest.set(node, p);
        for (const c of this.canvases.get(node) ?? []) this.paint(c, p.bitmap);
        this.metrics.painted[node] = (this.metrics.painted[node] ?? 0) + 1;
        if (this.metrics.firstPaintAt === null && this.metrics.runPressedAt !== null) this.metrics.firstPaintAt = performance.now();
        this.metrics.lastPaintAt = performance.now();
        addLatency(this.metrics.latency, Date.now() - p.header.at);
        addLatency(this.metrics.clientLatency, performance.now() - p.receivedAt);
      }
      this.ready.clear();
      this.emit();
    }
    for (const [node, item] of this.waiting) {
      if (this.decoding.has(node)) continue;
      this.waiting.delete(node);
      this.decoding.add(node);
      const job = this.jobId;
      createImageBitmap(item.blob)
        .then((bitmap) => {
          if (job !== this.jobId) return bitmap.close();
          const stale = this.ready.get(node);
          if (stale) stale.bitmap.close();
          this.ready.set(node, { header: item.header, bitmap, receivedAt: item.receivedAt });
        })
        .catch((error: unknown) => console.warn('preview decode failed', error))
        .finally(() => {
          this.decoding.delete(node);
          this.schedule();
        });
    }
  }

  private paint(canvas: HTMLCanvasElement, bitmap: ImageBitmap) {
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
    canvas.dataset.painted = String(Number(canvas.dataset.painted ?? 0) + 1);
  }

  private blank(canvas: HTMLCanvasElement, _node: string) {
    canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
    canvas.dataset.painted = '0';
  }

  attach(nodeId: string, canvas: HTMLCanvasElement): () => void {
    let set = this.canvases.get(nodeId);
    if (!set) this.canvases.set(nodeId, (set = new Set()));
    set.add(canvas);
    const p = this.latest.get(nodeId);
    if (p) this.paint(canvas, p.bitmap);
    return () => set.delete(canvas);
  }

  private emit() {
    for (const l of this.listeners) l();
  }
}

export const previews = new PreviewStore();

export function usePreviewHeader(nodeId: string) {
  return useSyncExternalStore(previews.subscribe, () => previews.header(nodeId));
}
