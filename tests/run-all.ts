/**
 * `npm test`: type-check, unit + integration tests (vitest), then the browser
 * end-to-end tests (playwright-core in Debian's chromium), and one closing line
 * "N passed, N failed" over all of them. Exits non-zero when anything failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, 'test-output');
mkdirSync(outDir, { recursive: true });
const only = process.argv.slice(2);

function run(cmd: string, args: string[]): number {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  return result.status ?? 1;
}

let passed = 0;
let failed = 0;

const tsc = run('npx', ['tsc', '-p', 'tsconfig.json']);
if (tsc === 0) passed++;
else failed++;
console.log(`type-check: ${tsc === 0 ? 'ok' : 'FAILED'}`);

const vitestJson = path.join(outDir, 'vitest.json');
const vitest = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`, ...only]);
if (existsSync(vitestJson)) {
  const report = JSON.parse(readFileSync(vitestJson, 'utf8')) as { numPassedTests: number; numFailedTests: number; numTotalTestSuites: number; numFailedTestSuites: number };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  if (vitest !== 0 && report.numFailedTests === 0) failed++;
} else if (vitest !== 0) failed++;

const e2eRunner = path.join(root, 'tests', 'e2e', 'run.ts');
if (only.length === 0 && existsSync(e2eRunner)) {
  const e2eJson = path.join(outDir, 'e2e.json');
  const e2e = run('npx', ['tsx', e2eRunner, `--json=${e2eJson}`]);
  if (existsSync(e2eJson)) {
    const report = JSON.parse(readFileSync(e2eJson, 'utf8')) as { passed: number; failed: number };
    passed += report.passed;
    failed += report.failed;
    if (e2e !== 0 && report.failed === 0) failed++;
  } else if (e2e !== 0) failed++;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
