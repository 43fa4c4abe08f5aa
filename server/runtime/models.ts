/**
 * The model runtime: finds packs under the models folder, validates their manifests,
 * checks each ONNX file's sha256 once, and creates ONNX Runtime sessions lazily and
 * caches them. It also totals the time spent inside session.run, which the benchmark
 * compares against wall time to measure the engine's own overhead.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelAccess, TensorData } from '../../nodes/core/definition';
import { ManifestSchema, type Manifest } from '../../models/manifest';

export type Device = 'cpu' | 'cuda';

export class ModelError extends Error {
  override name = 'ModelError';
}

export function cudaAvailable(): boolean {
  try {
    return ort.listSupportedBackends().some((b) => b.name === 'cuda');
  } catch {
    return false;
  }
}

export function assertDevice(device: Device): void {
  if (device === 'cuda' && !cudaAvailable()) {
    throw new ModelError(
      'device "cuda" was asked for, but this onnxruntime-node has no CUDA provider: ' +
        'reinstall it with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm install` on a machine with CUDA 12, or use --device cpu',
    );
  }
}

function toOrtTensor(name: string, t: TensorData): ort.Tensor {
  if (t.data instanceof Float32Array) return new ort.Tensor('float32', t.data, t.dims);
  if (t.data instanceof BigInt64Array) return new ort.Tensor('int64', t.data, t.dims);
  if (t.data instanceof Int32Array) return new ort.Tensor('int32', t.data, t.dims);
  if (t.data instanceof Uint8Array) return new ort.Tensor('uint8', t.data, t.dims);
  throw new ModelError(`input "${name}" has an unsupported data type`);
}

export class ModelRuntime implements ModelAccess {
  private readonly manifests = new Map<string, Manifest>();
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly verified = new Map<string, Promise<void>>();
  private manifestProblems = new Map<string, string>();
  /** Milliseconds spent inside ONNX Runtime since the last reset. */
  sessionMs = 0;

  constructor(
    readonly modelsDir: string,
    readonly device: Device = 'cpu',
    private readonly threads = Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
  ) {
    assertDevice(device);
    this.scan();
  }

  /** (Re)reads every models/<pack>/manifest.json. */
  scan(): void {
    this.manifests.clear();
    this.manifestProblems = new Map();
    if (!existsSync(this.modelsDir)) return;
    for (const entry of readdirSync(this.modelsDir, { withFileTypes: true })) {
      // A pack may be a link to a folder elsewhere (a training run's pack judged beside the shipped one).
      if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
      const file = path.join(this.modelsDir, entry.name, 'manifest.json');
      if (!existsSync(file)) continue;
      try {
        const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          this.manifestProblems.set(entry.name, `${issue.path.join('.')}: ${issue.message}`);
          continue;
        }
        this.manifests.set(parsed.data.name, parsed.data);
      } catch (error) {
        this.manifestProblems.set(entry.name, error instanceof Error ? error.message : String(error));
      }
    }
  }

  packs(): Manifest[] {
    return [...this.manifests.values()];
  }

  hasPack(pack: string): boolean {
    return this.manifests.has(pack);
  }

  /** Whether the pack's manifest lists a model in this role (its file may still be missing: `missing` says). */
  lists(pack: string, role: string): boolean {
    return this.manifests.get(pack)?.models[role] !== undefined;
  }

  manifest(pack: string): Manifest {
    const manifest = this.manifests.get(pack);
    if (!manifest) throw new ModelError(this.unavailable(pack));
    return manifest;
  }

  /** Why a pack has no usable manifest: an invalid one, or none in the models folder (naming the ones there are). */
  private unavailable(pack: string): string {
    const problem = this.manifestProblems.get(pack);
    if (problem) return `model pack "${pack}" has an invalid manifest: ${problem}`;
    const installed = [...this.manifests.keys()].join(', ') || 'none';
    return `model pack "${pack}" is not installed in ${this.modelsDir} (installed: ${installed})`;
  }

  /** Why a role of a pack cannot be used, or null when it can. */
  missing(pack: string, role: string): string | null {
    const manifest = this.manifests.get(pack);
    if (!manifest) return this.unavailable(pack);
    const model = manifest.models[role];
    if (!model) return `model pack "${pack}" has no "${role}" model`;
    if (!existsSync(path.join(this.modelsDir, pack, model.file))) return `model file ${pack}/${model.file} is missing`;
    return null;
  }

  fileHash(pack: string, role: string): string {
    const model = this.manifest(pack).models[role];
    if (!model) throw new ModelError(`model pack "${pack}" has no "${role}" model`);
    return model.sha256;
  }

  private filePath(pack: string, role: string): string {
    const manifest = this.manifest(pack);
    const model = manifest.models[role];
    if (!model) {
      throw new ModelError(`model pack "${pack}" has no "${role}" model (it has: ${Object.keys(manifest.models).join(', ')})`);
    }
    return path.join(this.modelsDir, pack, model.file);
  }

  private verify(pack: string, role: string): Promise<void> {
    const key = `${pack}/${role}`;
    let pending = this.verified.get(key);
    if (!pending) {
      const file = this.filePath(pack, role);
      const expected = this.fileHash(pack, role);
      pending = new Promise<void>((resolve, reject) => {
        if (!existsSync(file)) {
          reject(new ModelError(`model file ${path.relative(process.cwd(), file)} is missing`));
          return;
        }
        const hash = createHash('sha256');
        createReadStream(file)
          .on('data', (chunk) => hash.update(chunk))
          .on('error', reject)
          .on('end', () => {
            const actual = hash.digest('hex');
            if (actual === expected) resolve();
            else reject(new ModelError(`model file ${pack}/${path.basename(file)} is corrupt: sha256 ${actual}, manifest says ${expected}`));
          });
      });
      this.verified.set(key, pending);
      pending.catch(() => this.verified.delete(key));
    }
    return pending;
  }

  session(pack: string, role: string): Promise<ort.InferenceSession> {
    const key = `${pack}/${role}`;
    let session = this.sessions.get(key);
    if (!session) {
      const file = this.filePath(pack, role);
      session = this.verify(pack, role).then(() =>
        ort.InferenceSession.create(file, {
          executionProviders: this.device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
          graphOptimizationLevel: 'all',
          intraOpNumThreads: this.threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          // Spinning worker threads burn a core while waiting; on a shared 2-core machine
          // that slows everything else (previews, ffmpeg) more than it speeds ORT up.
          extra: { session: { intra_op: { allow_spinning: '0' } } },
        }),
      );
      this.sessions.set(key, session);
      session.catch(() => this.sessions.delete(key));
    }
    return session;
  }

  recordSessionTime(ms: number): void {
    this.sessionMs += ms;
  }

  async run(pack: string, role: string, feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    const session = await this.session(pack, role);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(name, tensor);
    const started = performance.now();
    const results = await session.run(ortFeeds);
    this.sessionMs += performance.now() - started;
    const out: Record<string, TensorData> = {};
    for (const [name, tensor] of Object.entries(results)) {
      out[name] = { data: tensor.data as TensorData['data'], dims: tensor.dims };
    }
    return out;
  }

  async release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) {
      try {
        await (await s).release();
      } catch {
        // A session that failed to load has nothing to release.
      }
    }
  }
}
