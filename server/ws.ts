/**
 * WebSocket hub: JSON events and binary previews to every client that follows a job.
 * Previews are coalesced per client and per (job, node, kind, frame): a slow client gets
 * the newest frame when its socket drains, never an unbounded backlog.
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { ClientMessageSchema, encodePreview, type PreviewHeader, type ServerEvent } from '../nodes/core/protocol';
import { encodeJpeg } from '../nodes/lib/frames';
import type { JobQueue, PreviewEvent } from './jobs';

const MAX_BUFFERED = 512 * 1024;
const FLUSH_MS = 40;
const HEARTBEAT_MS = 15_000;
const MAX_MESSAGE = 64 * 1024;

interface SharedPreview {
  header: PreviewHeader;
  frame: Uint8Array;
  bytes?: Promise<Uint8Array>;
}

interface Client {
  id: string;
  socket: WebSocket;
  all: boolean;
  jobs: Set<string>;
  previews: boolean;
  pending: Map<string, SharedPreview>;
  alive: boolean;
  flushing: boolean;
}

export class Hub {
  readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | null = null;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly queue: JobQueue) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
    this.wss.on('connection', (socket: WebSocket, request: IncomingMessage) => this.connect(socket, request));
    queue.on('event', (event) => this.broadcast(event));
    queue.on('preview', (preview) => this.preview(preview));
    this.heartbeat = setInterval(() => {
      for (const client of this.clients) {
        if (!client.alive) {
          client.socket.terminate();
          continue;
        }
        client.alive = false;
        client.socket.ping();
      }
    }, HEARTBEAT_MS);
  }

  private connect(socket: WebSocket, _request: IncomingMessage): void {
    const client: Client = { id: randomUUID(), socket, all: false, jobs: new Set(), previews: true, pending: new Map(), alive: true, flushing: false };
    this.clients.add(client);
    socket.on('pong', () => (client.alive = true));
    socket.on('close', () => this.clients.delete(client));
    socket.on('error', () => this.clients.delete(client));
    socket.on('message', (data, isBinary) => {
      if (isBinary) return this.send(client, { type: 'error', message: 'binary messages are not accepted; send JSON' });
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return this.send(client, { type: 'error', message: 'message is not valid JSON' });
      }
      const parsed = ClientMessageSchema.safeParse(message);
      if (!parsed.success) {
        return this.send(client, { type: 'error', message: `unknown or malformed message: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
      }
      const m = parsed.data;
      switch (m.type) {
        case 'subscribe':
          if (m.jobs === 'all') {
            client.all = true;
            for (const job of this.queue.list()) if (job.status === 'pending' || job.status === 'running') this.send(client, { type: 'job.state', job });
          } else {
            for (const id of m.jobs) {
              client.jobs.add(id);
              const job = this.queue.get(id);
              if (job) this.send(client, { type: 'job.state', job: job.summary });
              else this.send(client, { type: 'error', message: `no job "${id}"` });
            }
          }
          break;
        case 'unsubscribe':
          for (const id of m.jobs) client.jobs.delete(id);
          break;
        case 'previews':
          client.previews = m.enabled;
          if (!m.enabled) client.pending.clear();
          break;
        case 'ping':
          client.alive = true;
          break;
      }
    });
    this.send(client, { type: 'hello', clientId: client.id, server: 'make-a-video-studio', protocol: 1 });
  }

  private follows(client: Client, jobId: string): boolean {
    return client.all || client.jobs.has(jobId);
  }

  private send(client: Client, event: ServerEvent): void {
    if (client.socket.readyState === WebSocket.OPEN) client.socket.send(JSON.stringify(event));
  }

  private broadcast(event: ServerEvent): void {
    const jobId = 'jobId' in event ? event.jobId : 'job' in event ? event.job.id : undefined;
    for (const client of this.clients) {
      if (jobId === undefined || this.follows(client, jobId)) this.send(client, event);
    }
  }

  private preview(p: PreviewEvent): void {
    const count = p.info.count ?? p.frames.frames.length;
    const first = p.info.firstFrame ?? 0;
    const shared = p.frames.frames.map(
      (frame, i): SharedPreview => ({
        frame,
        header: {
          jobId: p.jobId,
          nodeId: p.nodeId,
          kind: p.info.kind,
          step: p.info.step,
          steps: p.info.steps,
          frame: first + i,
          count,
          width: p.frames.width,
          height: p.frames.height,
          mime: 'image/jpeg',
          at: p.at,
        },
      }),
    );
    let any = false;
    for (const client of this.clients) {
      if (!client.previews || !this.follows(client, p.jobId)) continue;
      for (const s of shared) client.pending.set(`${p.jobId}/${p.nodeId}/${s.header.kind}/${s.header.frame}`, s);
      any = true;
    }
    if (!any) return;
    // Encode now, once for every client, so the first flush does not wait on the encoder.
    for (const s of shared) s.bytes = encodeJpeg(s.frame, s.header.width, s.header.height).then((jpeg) => encodePreview(s.header, jpeg));
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, 0);
    // The first flush goes out at once; later ones are paced by FLUSH_MS inside flush().
  }

  private async flush(): Promise<void> {
    let again = false;
    await Promise.all(
      [...this.clients].map(async (client) => {
        if (client.flushing || client.pending.size === 0) return;
        if (client.socket.readyState !== WebSocket.OPEN) {
          client.pending.clear();
          return;
        }
        if (client.socket.bufferedAmount > MAX_BUFFERED) {
          again = true;
          return;
        }
        client.flushing = true;
        const batch = [...client.pending.entries()];
        client.pending.clear();
        try {
          const messages = await Promise.all(
            batch.map(([, s]) => (s.bytes ??= encodeJpeg(s.frame, s.header.width, s.header.height).then((jpeg) => encodePreview(s.header, jpeg)))),
          );
          for (const message of messages) if (client.socket.readyState === WebSocket.OPEN) client.socket.send(message);
        } finally {
          client.flushing = false;
        }
        if (client.pending.size > 0) again = true;
      }),
    );
    if (again && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, FLUSH_MS);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    if (this.timer) clearTimeout(this.timer);
    for (const client of this.clients) client.socket.terminate();
    this.wss.close();
  }
}
