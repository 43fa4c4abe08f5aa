/**
 * Runs the browser specs (tests/e2e/*.spec.ts) against the real server in Debian's
 * chromium. `npx tsx tests/e2e/run.ts [name-filter] [--json=FILE]`; exits non-zero on a
 * failure. Screenshots go to test-output/e2e/.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildClient, launchBrowser, OUT_DIR, startServer } from './harness';
import type { Spec } from './spec';
import type { RunningServer } from './harness';

/** E2E_SERVER_URL points the specs at a server already running (for working on the UI); restarts are not possible then. */
function existingServer(url: string): RunningServer {
  return { url, port: Number(new URL(url).port), dataDir: '', log: () => '', stop: async () => undefined };
}

interface StepResult {
  spec: string;
  step: string;
  status: 'passed' | 'failed' | 'skipped';
  ms: number;
  error?: string;
}

const args = process.argv.slice(2);
const jsonOut = args.find((a) => a.startsWith('--json='))?.slice(7);
const filters = args.filter((a) => !a.startsWith('--'));
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.spec.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const results: StepResult[] = [];
let setupError: string | null = null;

try {
  buildClient();
} catch (e) {
  setupError = `build: ${String(e)}`;
}

if (!setupError) {
  const browser = await launchBrowser();
  try {
    for (const file of files) {
      const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { spec?: Spec };
      const spec = mod.spec;
      if (!spec) {
        results.push({ spec: file, step: 'load', status: 'failed', ms: 0, error: 'the file exports no `spec`' });
        continue;
      }
      console.log(`\n● ${spec.name} (${file})`);
      const server = process.env.E2E_SERVER_URL ? existingServer(process.env.E2E_SERVER_URL) : await startServer();
      let failed = false;
      const deadline = Date.now() + (spec.timeoutMs ?? 15 * 60_000);
      // Later steps build on earlier ones, so after a failure they are reported as skipped.
      const step = async (name: string, fn: () => Promise<void>) => {
        if (failed) {
          results.push({ spec: spec.name, step: name, status: 'skipped', ms: 0 });
          console.log(`  - ${name} (skipped)`);
          return;
        }
        const t0 = Date.now();
        try {
          if (t0 > deadline) throw new Error('the spec ran past its time limit');
          await fn();
          results.push({ spec: spec.name, step: name, status: 'passed', ms: Date.now() - t0 });
          console.log(`  ✓ ${name} (${Date.now() - t0} ms)`);
        } catch (e) {
          failed = true;
          const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
          results.push({ spec: spec.name, step: name, status: 'failed', ms: Date.now() - t0, error });
          console.log(`  ✗ ${name}\n${error.replace(/^/gm, '      ')}`);
        }
      };
      try {
        await spec.run({ browser, server, step });
      } catch (e) {
        failed = true;
        results.push({ spec: spec.name, step: '(spec)', status: 'failed', ms: 0, error: String(e) });
        console.log(`  ✗ ${String(e)}`);
      } finally {
        if (failed) console.log(`  server log (tail):\n${server.log().split('\n').slice(-15).join('\n').replace(/^/gm, '      ')}`);
        await server.stop();
      }
    }
  } finally {
    await browser.close();
  }
}

const passed = results.filter((r) => r.status === 'passed').length;
const failedCount = results.filter((r) => r.status === 'failed').length + (setupError ? 1 : 0);
const skipped = results.filter((r) => r.status === 'skipped').length;
if (setupError) console.log(`✗ ${setupError}`);
console.log(`\ne2e: ${passed} passed, ${failedCount} failed, ${skipped} skipped (screenshots in ${path.relative(process.cwd(), OUT_DIR)})`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ passed, failed: failedCount, skipped, results }, null, 2));
process.exit(failedCount > 0 ? 1 : 0);
