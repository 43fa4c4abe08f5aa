/**
 * Tallies judgements into per-attribute accuracies and renders the eval's table. Kept
 * apart from the runs so the arithmetic can be tested without a model pack.
 */
import type { Judgement } from '../world/analyze';

export const ATTRIBUTES = ['colour', 'background', 'shape', 'motion', 'size', 'singleObject'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

export const ATTRIBUTE_LABELS: Record<Attribute | 'overall', string> = {
  colour: 'colour',
  background: 'background',
  shape: 'shape',
  motion: 'motion',
  size: 'size (when named)',
  singleObject: 'one object throughout',
  overall: 'overall (every named attribute)',
};

/** Issue 3's targets, as fractions; size has none. */
export const TARGETS: Partial<Record<Attribute | 'overall', number>> = {
  overall: 0.9,
  colour: 0.97,
  background: 0.97,
  motion: 0.9,
  shape: 0.85,
  singleObject: 0.95,
};

export interface VerdictRecord {
  expected: string;
  measured: string | null;
  pass: boolean;
  detail: string;
}

/** One video's judgement as stored in results.json. */
export interface RunRecord {
  pass: boolean;
  verdicts: Partial<Record<Attribute, VerdictRecord>>;
  ms?: number;
}

export function recordJudgement(judgement: Judgement, ms?: number): RunRecord {
  const verdicts: RunRecord['verdicts'] = {};
  for (const attribute of ATTRIBUTES) {
    const v = judgement.verdicts[attribute];
    if (v !== undefined) verdicts[attribute] = { expected: v.expected, measured: v.measured, pass: v.pass, detail: v.detail };
  }
  return { pass: judgement.pass, verdicts, ...(ms === undefined ? {} : { ms: Math.round(ms) }) };
}

export interface Tally {
  passed: number;
  judged: number;
}

export type Summary = Record<Attribute | 'overall', Tally>;

export function summarise(records: readonly RunRecord[]): Summary {
  const summary = Object.fromEntries([...ATTRIBUTES, 'overall'].map((key) => [key, { passed: 0, judged: 0 }])) as Summary;
  for (const record of records) {
    summary.overall.judged += 1;
    if (record.pass) summary.overall.passed += 1;
    for (const attribute of ATTRIBUTES) {
      const verdict = record.verdicts[attribute];
      if (verdict === undefined) continue;
      summary[attribute].judged += 1;
      if (verdict.pass) summary[attribute].passed += 1;
    }
  }
  return summary;
}

export function accuracy(tally: Tally): number | null {
  return tally.judged === 0 ? null : tally.passed / tally.judged;
}

export function meetsTarget(key: Attribute | 'overall', tally: Tally): boolean | null {
  const target = TARGETS[key];
  const value = accuracy(tally);
  return target === undefined || value === null ? null : value >= target;
}

function cell(tally: Tally | undefined): string {
  if (tally === undefined) return 'not run';
  const value = accuracy(tally);
  return value === null ? 'not named' : `${(value * 100).toFixed(1)}% (${tally.passed}/${tally.judged})`;
}

export interface TableColumns {
  ours: Summary;
  ablation?: Summary;
  ceiling?: Summary;
}

/** Markdown table; reads fine in a terminal too. */
export function formatTable(columns: TableColumns, oursLabel = 'ours'): string {
  const rows = [
    `| attribute | target | ${oursLabel} | meets target | no decoder text (ablation) | renderer (ceiling) |`,
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const key of [...ATTRIBUTES, 'overall'] as const) {
    const target = TARGETS[key];
    const met = meetsTarget(key, columns.ours[key]);
    rows.push(
      `| ${ATTRIBUTE_LABELS[key]} | ${target === undefined ? '-' : `>= ${Math.round(target * 100)}%`} | ${cell(columns.ours[key])} | ` +
        `${met === null ? '-' : met ? 'yes' : 'NO'} | ${columns.ablation ? cell(columns.ablation[key]) : 'not run'} | ${columns.ceiling ? cell(columns.ceiling[key]) : 'not run'} |`,
    );
  }
  return rows.join('\n');
}

/** The most frequent (expected -> measured) mistakes per attribute, for reading failure modes. */
export function commonFailures(records: readonly RunRecord[], perAttribute = 3): Partial<Record<Attribute, { what: string; count: number }[]>> {
  const out: Partial<Record<Attribute, { what: string; count: number }[]>> = {};
  for (const attribute of ATTRIBUTES) {
    const counts = new Map<string, number>();
    for (const record of records) {
      const verdict = record.verdicts[attribute];
      if (verdict === undefined || verdict.pass) continue;
      // A video can have several single-object problems; each kind counts once per video.
      const kinds =
        attribute === 'singleObject'
          ? new Set((verdict.measured ?? 'unknown').split('; ').map((problem) => problem.replace(/ (in|between) .*$/, '')))
          : new Set([`${verdict.expected} -> ${verdict.measured ?? 'none'}`]);
      for (const what of kinds) counts.set(what, (counts.get(what) ?? 0) + 1);
    }
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, perAttribute).map(([what, count]) => ({ what, count }));
    if (top.length > 0) out[attribute] = top;
  }
  return out;
}

export function formatFailures(failures: ReturnType<typeof commonFailures>): string {
  const lines = ATTRIBUTES.flatMap((attribute) => {
    const top = failures[attribute];
    return top === undefined ? [] : [`- ${ATTRIBUTE_LABELS[attribute]}: ${top.map((f) => `${f.what} (${f.count})`).join(', ')}`];
  });
  return lines.length === 0 ? '- none' : lines.join('\n');
}
