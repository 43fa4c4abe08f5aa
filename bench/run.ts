/**
 * `npm run bench`: every area's measurements in one run, printed as a table and written
 * to bench/results.json. Targets are ratios or budgets checked here, never in tests.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { browserBench } from '../tests/e2e/bench';
import { benchEngine } from './engine';
import { benchInterpolation } from './interpolation';
import type { BenchRow } from './types';
import { benchUpscale } from './upscale';

const areas: Record<string, () => Promise<BenchRow[]>> = {
  engine: benchEngine,
  upscale: () => benchUpscale(),
  interpolation: () => benchInterpolation(),
  editor: async () => (await browserBench()).map((r) => ({ area: 'editor', ...r })),
};

const only = process.argv.slice(2);
const rows: BenchRow[] = [];
for (const [name, bench] of Object.entries(areas)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  try {
    rows.push(...(await bench()));
  } catch (error) {
    rows.push({ area: name, name: `FAILED: ${error instanceof Error ? error.message : String(error)}`, value: NaN, unit: '' });
  }
}

const fmt = (v: number) => (Number.isNaN(v) ? 'n/a' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));
const width = Math.max(...rows.map((r) => r.name.length), 10);
console.log(`${'area'.padEnd(12)} ${'measure'.padEnd(width)} ${'value'.padStart(10)} unit      target`);
for (const r of rows) {
  const verdict = r.ok === undefined ? '' : r.ok ? ' ok' : ' MISSED';
  console.log(`${r.area.padEnd(12)} ${r.name.padEnd(width)} ${fmt(r.value).padStart(10)} ${r.unit.padEnd(9)} ${r.target ?? ''}${verdict}`);
}
const file = path.join(import.meta.dirname, 'results.json');
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 2 ** 30) }, rows }, null, 2));
console.log(`written ${path.relative(process.cwd(), file)}`);
