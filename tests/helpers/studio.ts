/** Starts the real studio server on a free port with a throw-away data folder. */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { registry } from '../../nodes/registry';
import type { ServerEvent } from '../../nodes/core/protocol';
import { decodePreview, type PreviewHeader } from '../../nodes/core/protocol';
import { startStudio, type Studio } from '../../server/app';
import { readWorkflowFromMedia } from '../../nodes/lib/media-metadata';
import { ROOT_DIR } from '../../server/paths';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';

export async function startTestStudio(): Promise<Studio & { dataDir: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'studio-'));
  const studio = await startStudio({ port: 0, rootDir: ROOT_DIR, dataDir, registry, readWorkflowFromMedia: readWorkflowFromMedia });
  return Object.assign(studio, { dataDir });
}

export function readExample(name: string): unknown {
  return JSON.parse(readFileSync(path.join(ROOT_DIR, 'workflows', `${name}.json`), 'utf8'));
}

export interface Follower {
  socket: WebSocket;
  events: ServerEvent[];
  previews: { header: PreviewHeader; bytes: number; receivedAt: number }[];
  waitFor(predicate: (e: ServerEvent) => boolean, timeoutMs?: number): Promise<ServerEvent>;
  close(): void;
}

export async function follow(url: string, jobs: 'all' | string[] = 'all', origin?: string): Promise<Follower> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`, origin ? { headers: { origin } } : {});
  const events: ServerEvent[] = [];
  const previews: Follower['previews'] = [];
  const waiters: { predicate: (e: ServerEvent) => boolean; resolve: (e: ServerEvent) => void }[] = [];
  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      const { header, image } = decodePreview(data as Buffer);
      previews.push({ header, bytes: image.byteLength, receivedAt: Date.now() });
      return;
    }
    const event = JSON.parse(String(data)) as ServerEvent;
    events.push(event);
    for (const w of [...waiters]) {
      if (w.predicate(event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  socket.send(JSON.stringify({ type: 'subscribe', jobs }));
  return {
    socket,
    events,
    previews,
    waitFor(predicate, timeoutMs = 120_000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for an event; got ${events.map((e) => e.type).join(', ')}`)), timeoutMs);
        waiters.push({ predicate, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
    close: () => socket.close(),
  };
}

export interface Probe {
  frames: number;
  width: number;
  height: number;
  fps: number;
  codec: string;
  tags: Record<string, string>;
}

/** ffprobe the first video stream, counting frames by decoding. */
export function ffprobe(file: string): Probe {
  const result = spawnSync(
    ffprobeInstaller.path,
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height,r_frame_rate,codec_name:format_tags', '-of', 'json', file],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`ffprobe failed: ${result.stderr}`);
  const json = JSON.parse(result.stdout) as { streams: { nb_read_frames: string; width: number; height: number; r_frame_rate: string; codec_name: string }[]; format?: { tags?: Record<string, string> } };
  const s = json.streams[0]!;
  const [num, den] = s.r_frame_rate.split('/').map(Number);
  return { frames: Number(s.nb_read_frames), width: s.width, height: s.height, fps: num! / (den || 1), codec: s.codec_name, tags: json.format?.tags ?? {} };
}
