/**
 * What the browser tests and the browser benchmark share: building the editor, starting
 * the real server (`server/main.ts`, as a user would) on a free port with a throw-away
 * data folder, Debian's chromium through playwright-core, and numbered screenshots.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const OUT_DIR = path.join(ROOT, 'test-output', 'e2e');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds client/dist when it is missing or older than the sources, so tests see the current editor. */
export function buildClient(): void {
  const index = path.join(ROOT, 'client', 'dist', 'index.html');
  const clientDir = path.join(ROOT, 'client');
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(newestMtime(clientDir), newestMtime(path.join(ROOT, 'nodes', 'core')))) return;
  const res = spawnSync('npx', ['vite', 'build', 'client', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) throw new Error('vite build client failed');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  log(): string;
  stop(): Promise<void>;
}

/** Spawns the real server and waits for /api/health. */
export async function startServer(opts: { dataDir?: string; port?: number } = {}): Promise<RunningServer> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'studio-e2e-'));
  const ownsData = opts.dataDir === undefined;
  let output = '';
  const child: ChildProcess = spawn('npx', ['tsx', 'server/main.ts', '--port', String(port), '--no-build'], {
    cwd: ROOT,
    env: { ...process.env, STUDIO_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not become healthy in 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    dataDir,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        const pid = child.pid;
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        // npx starts tsx starts node: signal the whole process group we created.
        const signal = (s: NodeJS.Signals) => {
          try {
            process.kill(-pid, s);
          } catch {
            // already gone
          }
        };
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (ownsData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export class Shots {
  private n = 0;
  readonly files: string[] = [];
  constructor(readonly prefix: string) {
    mkdirSync(OUT_DIR, { recursive: true });
    // Screenshots of an earlier run would pass for this one's.
    for (const f of readdirSync(OUT_DIR)) if (f.startsWith(`${prefix}-`) && f.endsWith('.png')) rmSync(path.join(OUT_DIR, f));
  }
  async take(page: Page, name: string): Promise<string> {
    this.n += 1;
    const file = path.join(OUT_DIR, `${this.prefix}-${String(this.n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    this.files.push(file);
    return file;
  }
}

/** Collects page errors so a test can fail on an uncaught exception in the editor. */
export function watchPage(page: Page): { errors: string[] } {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return { errors };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
