/**
 * The /ws connection: JSON events and binary previews. A dropped socket (network blip,
 * server restart) reconnects with exponential backoff and subscribes again; the server
 * answers a subscribe with job.state snapshots, which is how the page resyncs.
 */
import { useSyncExternalStore } from 'react';
import type { ClientMessage, ServerEvent } from '../../nodes/core/protocol';

export type SocketStatus = 'connecting' | 'open' | 'reconnecting';

export interface SocketHandlers {
  onEvent(ev: ServerEvent): void;
  onPreview(data: ArrayBuffer): void;
  /** After every (re)connect: time to refetch anything that may have been missed. */
  onOpen(reconnect: boolean): void;
}

export class StudioSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private opened = false;
  private stopped = false;
  private listeners = new Set<() => void>();
  status: SocketStatus = 'connecting';
  /** Seconds until the next attempt, while reconnecting. */
  retryAt = 0;

  constructor(
    private readonly handlers: SocketHandlers,
    private readonly url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  ) {}

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  getStatus = () => this.status;

  private setStatus(s: SocketStatus) {
    this.status = s;
    for (const l of this.listeners) l();
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
  }

  /** Drops the connection as a network failure would; used by the tests. */
  drop() {
    this.ws?.close(4000, 'dropped on purpose');
  }

  send(msg: ClientMessage) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private connect() {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      const reconnect = this.opened;
      this.opened = true;
      this.attempt = 0;
      this.setStatus('open');
      this.send({ type: 'subscribe', jobs: 'all' });
      this.handlers.onOpen(reconnect);
    };
    ws.onmessage = (msg) => {
      if (msg.data instanceof ArrayBuffer) {
        this.handlers.onPreview(msg.data);
        return;
      }
      let ev: unknown;
      try {
        ev = JSON.parse(String(msg.data));
      } catch {
        return;
      }
      if (ev !== null && typeof ev === 'object' && typeof (ev as { type?: unknown }).type === 'string') {
        this.handlers.onEvent(ev as ServerEvent);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      // 0.5 s, 1 s, 2 s ... capped at 5 s (a local server restarts in seconds), with
      // jitter so many tabs do not stampede.
      const delay = Math.min(5000, 500 * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
      this.attempt += 1;
      this.retryAt = Date.now() + delay;
      this.setStatus('reconnecting');
      this.timer = setTimeout(() => this.connect(), delay);
    };
    ws.onerror = () => {
      // onclose follows and schedules the retry.
    };
  }
}

export function useSocketStatus(socket: StudioSocket) {
  return useSyncExternalStore(socket.subscribe, socket.getStatus);
}
