/**
 * The HTTP server: Express for the REST API and the editor's files, ws for /ws, on one
 * http.Server. Binds 127.0.0.1 by default and refuses state-changing requests and
 * WebSocket upgrades from other origins (a web page must not drive a local GPU server).
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { describeNode } from '../nodes/core/definition';
import { SubmitJobSchema } from '../nodes/core/protocol';
import type { Registry } from '../nodes/core/validate';
import { parseWorkflow } from '../nodes/core/workflow';
import { encodeJpeg, encodePng } from '../nodes/lib/frames';
import { WorkflowInvalidError } from './engine/executor';
import { JobQueue } from './jobs';
import { Hub } from './ws';

export interface StudioOptions {
  host?: string;
  port?: number;
  rootDir: string;
  dataDir: string;
  registry: Registry;
  clientDir?: string;
  /** Extra allowed origins besides the server's own (e.g. a Vite dev server). */
  allowedOrigins?: string[];
  /** Reads a workflow embedded in an exported file (from the export node's library). */
  readWorkflowFromMedia?: (file: string) => Promise<{ workflow: unknown; seed: number | null }>;
}

export interface Studio {
  server: Server;
  queue: JobQueue;
  url: string;
  port: number;
  close(): Promise<void>;
}

const JSON_LIMIT = '2mb';
const UPLOAD_LIMIT = 200 * 1024 * 1024;
const SAVED_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export async function startStudio(options: StudioOptions): Promise<Studio> {
  const host = options.host ?? '127.0.0.1';
  const uploadsDir = path.join(options.dataDir, 'uploads');
  const savedDir = path.join(options.dataDir, 'workflows');
  const examplesDir = path.join(options.rootDir, 'workflows');
  for (const dir of [uploadsDir, savedDir]) mkdirSync(dir, { recursive: true });
  const queue = new JobQueue({
    registry: options.registry,
    modelsDir: path.join(options.rootDir, 'models'),
    dataDir: options.dataDir,
    inputRoots: [uploadsDir, path.join(examplesDir, 'assets')],
  });

  const app = express();
  app.disable('x-powered-by');
  const server = createServer(app);
  let port = options.port ?? 8190;
  const allowedOrigin = (origin: string | undefined): boolean => {
    if (!origin) return true;
    const own = [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`, `http://${host}:${port}`];
    return own.includes(origin) || (options.allowedOrigins ?? []).includes(origin);
  };

  app.use((req, _res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && !allowedOrigin(req.headers.origin)) {
      next(new HttpError(403, `requests from origin ${req.headers.origin} are refused`));
      return;
    }
    next();
  });

  const api = express.Router();
  api.use(express.json({ limit: JSON_LIMIT }));

  api.get('/health', (_req, res) => {
    res.json({ ok: true, version: 1 });
  });
  api.get('/nodes', (_req, res) => {
    res.json(Object.values(options.registry).map(describeNode));
  });
  api.get('/models', (_req, res) => {
    res.json(
      queue
        .runtime()
        .packs()
        .map((m) => ({
          name: m.name,
          description: m.description,
          licence: m.licence,
          roles: Object.entries(m.models).map(([role, f]) => ({ role, file: f.file, bytes: f.bytes })),
        })),
    );
  });

  api.get('/workflows', (_req, res) => {
    const list = (dir: string, source: 'example' | 'saved') =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.endsWith('.json'))
            .sort()
            .map((f) => {
              const id = f.slice(0, -5);
              let name = id;
              try {
                name = (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { name?: string }).name ?? id;
              } catch {
                // Listed by file name when unreadable; opening it reports the problem.
              }
              return { id, name, source };
            })
        : [];
    res.json([...list(examplesDir, 'example'), ...list(savedDir, 'saved')]);
  });
  api.get('/workflows/:source/:id', (req, res) => {
    const { source, id } = req.params;
    if ((source !== 'example' && source !== 'saved') || !SAVED_ID.test(id)) throw new HttpError(404, 'no such workflow');
    const file = path.join(source === 'example' ? examplesDir : savedDir, `${id}.json`);
    if (!existsSync(file)) throw new HttpError(404, `no ${source} workflow "${id}"`);
    res.type('application/json').send(readFileSync(file, 'utf8'));
  });
  api.put('/workflows/saved/:id', (req, res) => {
    const { id } = req.params;
    if (!SAVED_ID.test(id)) throw new HttpError(400, 'a workflow id is letters, digits, "-" and "_" (at most 80)');
    const parsed = parseWorkflow(req.body);
    if (!parsed.ok) throw new HttpError(400, 'the workflow file is malformed', { problems: parsed.problems });
    const file = path.join(savedDir, `${id}.json`);
    const tmp = `${file}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify(parsed.workflow, null, 2));
    renameSync(tmp, file);
    res.json({ id });
  });
  api.delete('/workflows/saved/:id', (req, res) => {
    const { id } = req.params;
    if (!SAVED_ID.test(id)) throw new HttpError(404, 'no such workflow');
    rmSync(path.join(savedDir, `${id}.json`), { force: true });
    res.status(204).end();
  });

  api.post('/validate', (req, res) => {
    const body = req.body as { workflow?: unknown } | undefined;
    if (!body || typeof body !== 'object' || !('workflow' in body)) throw new HttpError(400, 'expected a JSON body { "workflow": ... }');
    const problems = queue.validate(body.workflow);
    res.json({ ok: problems.length === 0, problems });
  });

  api.post('/jobs', (req, res) => {
    const parsed = SubmitJobSchema.safeParse(req.body);
    if (!parsed.success) {
      throw new HttpError(400, 'expected { workflow, seed?, device?, set? }', {
        problems: parsed.error.issues.map((i) => ({ code: 'schema', field: i.path.join('.') || 'body', message: i.message })),
      });
    }
    try {
      const job = queue.submit(parsed.data.workflow, { seed: parsed.data.seed, set: parsed.data.set, device: parsed.data.device });
      res.status(201).json(job);
    } catch (error) {
      if (error instanceof WorkflowInvalidError) throw new HttpError(400, 'the workflow is invalid', { problems: error.problems });
      throw new HttpError(400, error instanceof Error ? error.message : String(error));
    }
  });
  api.get('/jobs', (_req, res) => {
    res.json(queue.list());
  });
  const job = (id: string) => {
    const record = queue.get(id);
    if (!record) throw new HttpError(404, `no job "${id}"`);
    return record;
  };
  api.get('/jobs/:id', (req, res) => {
    res.json(job(req.params.id).summary);
  });
  api.post('/jobs/:id/cancel', (req, res) => {
    res.json(queue.cancel(job(req.params.id).summary.id));
  });
  api.delete('/jobs/:id', (req, res) => {
    const record = job(req.params.id);
    if (!queue.remove(record.summary.id)) throw new HttpError(409, 'a running job must be cancelled before it is removed');
    res.status(204).end();
  });
  api.get('/jobs/:id/files/:name', (req, res) => {
    const record = job(req.params.id);
    const dir = queue.outputDir(record.summary.id);
    const name = req.params.name;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.includes('..')) throw new HttpError(400, 'not a plain file name');
    const file = path.join(dir, name);
    if (!existsSync(file)) throw new HttpError(404, `job ${record.summary.id} has no file "${name}"`);
    res.sendFile(file, { dotfiles: 'deny' });
  });
  const nodeFrames = (req: Request) => {
    const record = job(String(req.params.id));
    const frames = record.nodeFrames.get(String(req.params.node));
    if (!frames) throw new HttpError(404, `no frames kept for node "${req.params.node}" of job ${record.summary.id}`);
    return { record, frames };
  };
  api.get('/jobs/:id/nodes/:node/frames', (req, res) => {
    const { record, frames } = nodeFrames(req);
    const steps = record.stepFrames.get(String(req.params.node));
    res.json({ count: frames.frames.length, width: frames.width, height: frames.height, fps: frames.fps, steps: steps ? Math.max(...steps.keys()) : 0 });
  });
  api.get('/jobs/:id/nodes/:node/frames/:index', async (req, res) => {
    const { frames } = nodeFrames(req);
    const frame = frames.frames[Number(req.params.index)];
    if (!frame) throw new HttpError(404, `frame ${req.params.index} out of range (0-${frames.frames.length - 1})`);
    res.type('image/png').send(Buffer.from(await encodePng(frame, frames.width, frames.height)));
  });
  api.get('/jobs/:id/nodes/:node/steps/:step/:index', async (req, res) => {
    const record = job(String(req.params.id));
    const set = record.stepFrames.get(String(req.params.node))?.get(Number(req.params.step));
    const frame = set?.frames[Number(req.params.index)];
    if (!set || !frame) throw new HttpError(404, 'no such step or frame');
    res.type('image/jpeg').send(Buffer.from(await encodeJpeg(frame, set.width, set.height, 90)));
  });

  const raw = express.raw({ type: () => true, limit: UPLOAD_LIMIT });
  api.post('/uploads', raw, (req, res) => {
    const mime = String(req.headers['content-type'] ?? '');
    const body = req.body as unknown;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpError(400, 'the upload is empty');
    const ext = uploadExtension(mime, body);
    if (!ext) throw new HttpError(415, `unsupported upload type "${mime}": send an image (png, jpeg, webp, gif) or a video (mp4, webm, mov)`);
    const original = String(req.headers['x-filename'] ?? 'upload').replace(/[^A-Za-z0-9_.-]/g, '_').replace(/\.[^.]*$/, '').slice(0, 40) || 'upload';
    const name = `${original}-${randomUUID().slice(0, 8)}.${ext}`;
    const tmp = path.join(uploadsDir, `.${name}.tmp`);
    writeFileSync(tmp, body);
    renameSync(tmp, path.join(uploadsDir, name));
    res.status(201).json({ path: name, name, bytes: body.length, mime });
  });
  api.post('/extract-workflow', raw, async (req, res) => {
    const body = req.body as unknown;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpError(400, 'send the bytes of an exported file');
    if (!options.readWorkflowFromMedia) throw new HttpError(501, 'reading workflows from media is not available');
    const tmpDir = path.join(options.dataDir, 'tmp');
    mkdirSync(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, `extract-${randomUUID()}`);
    writeFileSync(tmp, body);
    try {
      const found = await options.readWorkflowFromMedia(tmp);
      res.json(found);
    } catch (error) {
      throw new HttpError(400, error instanceof Error ? error.message : String(error));
    } finally {
      rmSync(tmp, { force: true });
    }
  });
  api.use((_req, _res) => {
    throw new HttpError(404, 'no such API route');
  });

  app.use('/api', api);
  const clientDir = options.clientDir ?? path.join(options.rootDir, 'client', 'dist');
  if (existsSync(clientDir)) {
    app.use(express.static(clientDir, { index: 'index.html' }));
    app.get(/^\/(?!api\/|ws$).*/, (_req, res) => res.sendFile(path.join(clientDir, 'index.html')));
  } else {
    app.get('/', (_req, res) => {
      res.type('text/plain').send('The editor is not built yet: run `npm run build:client`. The API is at /api.');
    });
  }

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: error.message, ...error.extra });
      return;
    }
    const e = error as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: `the request body is too large (limit ${JSON_LIMIT} for JSON, ${UPLOAD_LIMIT / 1024 / 1024} MB for uploads)` });
      return;
    }
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: `the request body is not valid JSON: ${e.message}` });
      return;
    }
    console.error(error);
    res.status(500).json({ error: e.message ?? 'internal error' });
  });

  const hub = new Hub(queue);
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws' || !allowedOrigin(request.headers.origin)) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    hub.wss.handleUpgrade(request, socket, head, (ws) => hub.wss.emit('connection', ws, request));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  if (address && typeof address === 'object') port = address.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    server,
    queue,
    url,
    port,
    async close() {
      hub.close();
      await queue.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function uploadExtension(mime: string, body: Buffer): string | null {
  const head = body.subarray(0, 16);
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8) return 'jpg';
  if (head.subarray(0, 4).toString('latin1') === 'GIF8') return 'gif';
  if (head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  if (head.subarray(4, 8).toString('latin1') === 'ftyp') return mime.includes('quicktime') ? 'mov' : 'mp4';
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'webm';
  return null;
}
