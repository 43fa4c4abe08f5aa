/**
 * The real server on a real port, the real default models, real ffmpeg: what a user of
 * the HTTP API and the WebSocket sees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { JobSummary, ServerEvent } from '../../nodes/core/protocol';
import { startStudio } from '../../server/app';
import { registry } from '../../nodes/registry';
import { ROOT_DIR } from '../../server/paths';
import { ffprobe, follow, readExample, startTestStudio } from '../helpers/studio';

type TestStudio = Awaited<ReturnType<typeof startTestStudio>>;
let studio: TestStudio;

beforeAll(async () => {
  studio = await startTestStudio();
});
afterAll(async () => {
  await studio?.close();
});

async function post(pathname: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${studio.url}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}

const isDone = (id: string) => (e: ServerEvent) => (e.type === 'job.finished' || e.type === 'job.error' || e.type === 'job.cancelled') && e.jobId === id;

describe('server: the default workflow over HTTP and WebSocket', () => {
  it('runs text-to-video, streams events and previews, and serves a correct mp4', async () => {
    const follower = await follow(studio.url);
    const submitted = await post('/api/jobs', { workflow: readExample('text-to-video'), seed: 11 });
    expect(submitted.status).toBe(201);
    const job = submitted.json as unknown as JobSummary;
    const end = await follower.waitFor(isDone(job.id), 300_000);
    expect(end.type).toBe('job.finished');
    const types = new Set(follower.events.filter((e) => 'jobId' in e && e.jobId === job.id).map((e) => e.type));
    for (const t of ['job.started', 'node.started', 'node.progress', 'node.finished']) expect(types).toContain(t);
    // Previews are encoded and paced separately from JSON events; the last ones may land just after job.finished.
    const previewNodesOf = () => new Set(follower.previews.filter((p) => p.header.jobId === job.id).map((p) => p.header.nodeId));
    for (let i = 0; i < 100 && previewNodesOf().size < 3; i++) await new Promise((r) => setTimeout(r, 50));
    const previewNodes = previewNodesOf();
    expect(previewNodes.has('keyframes')).toBe(true);
    expect(previewNodes.size).toBeGreaterThanOrEqual(3);
    const stepPreviews = follower.previews.filter((p) => p.header.nodeId === 'keyframes' && p.header.kind === 'step');
    expect(stepPreviews.length).toBeGreaterThan(0);
    expect(stepPreviews.every((p) => p.bytes > 100 && p.header.width === 64)).toBe(true);

    const finished = (await (await fetch(`${studio.url}/api/jobs/${job.id}`)).json()) as JobSummary;
    expect(finished.status).toBe('finished');
    const file = finished.files.find((f) => f.name.endsWith('.mp4'))!;
    const res = await fetch(`${studio.url}${file.url}`);
    expect(res.status).toBe(200);
    const local = path.join(mkdtempSync(path.join(os.tmpdir(), 'dl-')), 'video.mp4');
    writeFileSync(local, Buffer.from(await res.arrayBuffer()));
    const probe = ffprobe(local);
    expect(probe).toMatchObject({ frames: 29, width: 128, height: 128, fps: 8, codec: 'h264' });

    const frames = (await (await fetch(`${studio.url}/api/jobs/${job.id}/nodes/keyframes/frames`)).json()) as { count: number; steps: number };
    expect(frames.count).toBe(8);
    expect(frames.steps).toBe(20);
    const png = await fetch(`${studio.url}/api/jobs/${job.id}/nodes/interpolate/frames/28`);
    expect(png.headers.get('content-type')).toBe('image/png');
    follower.close();
  });

  it('re-runs only what changed: a new export format reuses every model node', async () => {
    const workflow = readExample('text-to-video') as { nodes: { id: string; params: Record<string, unknown> }[] };
    const follower = await follow(studio.url);
    workflow.nodes.find((n) => n.id === 'export')!.params.format = 'gif';
    const job = (await post('/api/jobs', { workflow, seed: 11 })).json as unknown as JobSummary;
    await follower.waitFor(isDone(job.id), 300_000);
    const cached = follower.events.filter((e) => e.type === 'node.cached' && e.jobId === job.id).map((e) => (e as { nodeId: string }).nodeId);
    // every node but the export (prompt, prior, keyframes, upscale, refine, interpolate) comes from the cache
    expect(cached.sort()).toEqual(workflow.nodes.map((n) => n.id).filter((id) => id !== 'export').sort());
    expect(cached).toContain('refine');
    const summary = (await (await fetch(`${studio.url}/api/jobs/${job.id}`)).json()) as JobSummary;
    expect(summary.files[0]!.name).toMatch(/\.gif$/);
    follower.close();
  });

  it('two clients both follow a job; a client that reconnects mid-job gets its state', async () => {
    const a = await follow(studio.url);
    const job = (await post('/api/jobs', { workflow: readExample('text-to-video'), seed: 12 })).json as unknown as JobSummary;
    const b = await follow(studio.url, [job.id]);
    await b.waitFor((e) => (e.type === 'node.started' || e.type === 'node.progress') && e.jobId === job.id && e.nodeId === 'keyframes');
    b.close();
    const c = await follow(studio.url, [job.id]);
    const state = (await c.waitFor((e) => e.type === 'job.state' && e.job.id === job.id)) as Extract<ServerEvent, { type: 'job.state' }>;
    expect(['running', 'finished']).toContain(state.job.status);
    expect(state.job.nodes.prompt!.state).toMatch(/done|cached/);
    await Promise.all([a.waitFor(isDone(job.id), 300_000), c.waitFor(isDone(job.id), 300_000)]);
    expect(a.events.some((e) => e.type === 'job.finished' && e.jobId === job.id)).toBe(true);
    expect(c.events.some((e) => e.type === 'job.finished' && e.jobId === job.id)).toBe(true);
    a.close();
    c.close();
  });

  it('cancels a running job at the next step, and the queue goes on', async () => {
    const follower = await follow(studio.url);
    const workflow = readExample('text-to-video') as { nodes: { id: string; params: Record<string, unknown> }[] };
    workflow.nodes.find((n) => n.id === 'keyframes')!.params.steps = 150;
    const job = (await post('/api/jobs', { workflow, seed: 99 })).json as unknown as JobSummary;
    await follower.waitFor((e) => e.type === 'node.progress' && e.jobId === job.id && e.nodeId === 'keyframes' && e.done >= 2);
    const cancelled = await post(`/api/jobs/${job.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    const end = await follower.waitFor(isDone(job.id), 60_000);
    expect(end.type).toBe('job.cancelled');
    const progress = follower.events.filter((e) => e.type === 'node.progress' && e.jobId === job.id && e.nodeId === 'keyframes');
    expect(Math.max(...progress.map((e) => (e as { done: number }).done))).toBeLessThan(150);
    const next = (await post('/api/jobs', { workflow: readExample('text-to-video'), seed: 11 })).json as unknown as JobSummary;
    expect((await follower.waitFor(isDone(next.id), 300_000)).type).toBe('job.finished');
    follower.close();
  });
});

describe('server: bad input gets a clear error and the server keeps serving', () => {
  it('malformed JSON, an invalid workflow, impossible params', async () => {
    expect((await post('/api/jobs', '{"workflow": ')).status).toBe(400);
    const invalid = await post('/api/jobs', { workflow: { format: 'make-a-video-studio/workflow', version: 1, nodes: [{ id: 'k', type: 'keyframes', params: { steps: 1e9, seed: -3 } }, { id: 'x', type: 'warp-drive' }], edges: [] } });
    expect(invalid.status).toBe(400);
    const problems = invalid.json!.problems as { node: string; field: string; message: string }[];
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ node: 'k', field: 'params.steps', message: expect.stringMatching(/at most 200/) }),
        expect.objectContaining({ node: 'k', field: 'params.seed', message: expect.stringMatching(/at least 0/) }),
        expect.objectContaining({ node: 'x', field: 'type', message: expect.stringMatching(/unknown node type "warp-drive"/) }),
        expect.objectContaining({ node: 'k', field: 'inputs.text' }),
      ]),
    );
    const unknownWord = readExample('text-to-video') as { nodes: { id: string; params: Record<string, unknown> }[] };
    unknownWord.nodes.find((n) => n.id === 'prompt')!.params.text = 'a red spaceship moving left';
    const words = await post('/api/jobs', { workflow: unknownWord });
    expect(words.status).toBe(400);
    const wordProblems = words.json!.problems as { node: string; field: string; message: string }[];
    expect(wordProblems).toContainEqual(expect.objectContaining({ node: 'prompt', field: 'params.text', message: expect.stringMatching(/unknown word "spaceship"/) }));
    expect((await fetch(`${studio.url}/api/health`)).status).toBe(200);
  });

  it('a 100 MB body is refused without taking the server down', async () => {
    const huge = 'x'.repeat(100 * 1024 * 1024);
    const res = await post('/api/jobs', huge).catch(() => ({ status: 413, json: null }));
    expect(res.status).toBe(413);
    expect((await fetch(`${studio.url}/api/health`)).status).toBe(200);
  });

  it('refuses POSTs and WebSocket upgrades from other origins', async () => {
    const res = await post('/api/jobs', { workflow: readExample('text-to-video') }, { origin: 'http://evil.example' });
    expect(res.status).toBe(403);
    await expect(follow(studio.url, 'all', 'http://evil.example')).rejects.toThrow(/403/);
    const ok = await follow(studio.url, 'all', studio.url);
    ok.close();
  });

  it('a WebSocket message that is not JSON gets an error and the socket stays open', async () => {
    const f = await follow(studio.url);
    f.socket.send('this is not json');
    const error = await f.waitFor((e) => e.type === 'error');
    expect((error as { message: string }).message).toMatch(/not valid JSON/);
    f.socket.send(JSON.stringify({ type: 'ping' }));
    expect(f.socket.readyState).toBe(WebSocket.OPEN);
    f.close();
  });

  it('paths outside the allowed folders and non-plain file names are refused', async () => {
    const res = await fetch(`${studio.url}/api/jobs/x/files/..%2F..%2Fetc%2Fpasswd`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    const upload = await fetch(`${studio.url}/api/uploads`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'not a png at all' });
    expect(upload.status).toBe(415);
    expect((await upload.json()).error).toMatch(/unsupported upload/);
  });

  it('keeps finished jobs across a restart', async () => {
    const jobs = (await (await fetch(`${studio.url}/api/jobs`)).json()) as JobSummary[];
    const finished = jobs.find((j) => j.status === 'finished')!;
    expect(finished).toBeDefined();
    const second = await startStudio({ port: 0, rootDir: ROOT_DIR, dataDir: studio.dataDir, registry });
    try {
      const again = (await (await fetch(`${second.url}/api/jobs/${finished.id}`)).json()) as JobSummary;
      expect(again.status).toBe('finished');
      const file = await fetch(`${second.url}${again.files[0]!.url}`);
      expect(file.status).toBe(200);
      expect(existsSync(path.join(studio.dataDir, 'jobs', finished.id, 'job.json'))).toBe(true);
    } finally {
      await second.close();
    }
  });
});
