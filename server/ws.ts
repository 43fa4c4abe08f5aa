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
import { encodePngSync } from '../nodes/lib/png';
import type { JobQueue, PreviewEvent } from './jobs';

const MAX_BUFFERED = 512 * 1024;
const FLUSH_MS = 40;
const HEARTBEAT_MS = 15_000;
const MAX_MESSAGE = 64 * 1024;

// Previews up to this size (the keyframes node's every-step previews) are PNG-encoded on the
// main thread (see preview()); larger ones as JPEG on sharp's threads: an upscaled 128x128
// frame is ~17 KB as PNG against ~1.4 KB as JPEG, and a 512x512 one would stall the server.
const SYNC_PNG_MAX_PIXELS = 64 * 64;

interface SharedPreview {
  header: PreviewHeader;
  frame: Uint8Array;
  bytes?: Uint8Array | Promise<Uint8Array>;
}

function previewBytes(s: SharedPreview): Uint8Array | Promise<Uint8Array> {
  const { width, height, mime } = s.header;
  if (mime === 'image/png') return encodePreview(s.header, encodePngSync(s.frame, width, height));
  return encodeJpeg(s.frame, width, height).then((jpeg) => encodePreview(s.header, jpeg));
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
    const { width, height } = p.frames;
    const small = width * height <= SYNC_PNG_MAX_PIXELS;
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
          width,
          height,
          mime: small ? 'image/png' : 'image/jpeg',
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
    // Encode now, once for every client. Small frames are sent before this returns: the node
    // that produced them goes straight on to its next model run, which holds the event loop
    // for a whole sampling step, so a timer or an encoder thread would send them a step late.
    for (const s of shared) s.bytes = previewBytes(s);
    if (!this.timer) this.flush();
  }

  /** Sends every client its pending previews; what cannot go now is paced by FLUSH_MS. */
  private flush(): void {
    let again = false;
    for (const client of this.clients) {
      if (client.flushing || client.pending.size === 0) continue;
      if (client.socket.readyState !== WebSocket.OPEN) {
        client.pending.clear();
        continue;
      }
      if (client.socket.bufferedAmount > MAX_BUFFERED) {
        again = true;
        continue;
      }
      const batch = [...client.pending.values()];
      const messages = batch.map((s) => (s.bytes ??= previewBytes(s)));
      client.pending.clear();
      const send = (message: Uint8Array): void => {
        if (client.socket.readyState === WebSocket.OPEN) client.socket.send(message);
      };
      if (messages.every((m): m is Uint8Array => m instanceof Uint8Array)) {
        messages.forEach(send);
        continue;
      }
      client.flushing = true;
      Promise.all(messages)
        .then((encoded) => encoded.forEach(send))
        .catch((error: unknown) => {
          const nodes = [...new Set(batch.map((s) => `${s.header.jobId}/${s.header.nodeId}`))].join(', ');
          console.error(`previews of ${nodes} not sent: encoding failed: ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(() => {
          client.flushing = false;
          if (client.pending.size > 0) this.later();
        });
    }
    if (again) this.later();
  }

  private later(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, FLUSH_MS);
  }

  close(): void {
    clearInterval(this.heartbeat);
    if (this.timer) clearTimeout(this.timer);
    for (const client of this.clients) client.socket.terminate();
    this.wss.close();
  }
}
