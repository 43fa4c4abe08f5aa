/**
 * `npm run eval:tiny`: does the product obey its prompts? Prompts built from held-out
 * combinations (never in a training caption) are generated through the engine and the
 * default workflow, judged from the final video's pixels (world/analyze.ts), and set
 * beside the real renderer's clips of the same scenes (the ceiling: what the judge
 * itself gets wrong) and beside the same decoder without text (the paper's ablation).
 *
 * Usage: npm run eval:tiny -- [--prompts N] [--quick] [--seed S] [--no-ablation]
 *        [--ceiling-only] [--out DIR] [--no-mp4-check] [--models DIR (another models folder)] [--workflow FILE (instead of the default)]
 *        [--set NODE.PARAM=VALUE (repeatable; changes the default workflow, e.g. keyframes.guidance=5)]
 * Runs of at least 100 prompts write to models/tiny-world/eval/; smaller ones to
 * /tmp/tiny-world-eval (or --out), so a development run never replaces the committed results.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runFfmpeg } from '../../nodes/lib/ffmpeg';
import { registry } from '../../nodes/registry';
import { NodeOutputCache } from '../../server/engine/cache';
import { DEFAULT_WORKFLOW, MODELS_DIR, ROOT_DIR } from '../../server/paths';
import { applyOverrides, parseSetOverrides } from '../../server/engine/overrides';
import { ModelRuntime } from '../../server/runtime/models';
import { buildPrompts, describePrompts, pickSheetPrompts, type EvalPrompt } from './eval/prompts';
import { generateVideo, loadWorkflowFile, prepareEvalWorkflow, workflowForPrompt, type EvalWorkflow, type ProductContext } from './eval/product';
import {
  ATTRIBUTES,
  ATTRIBUTE_LABELS,
  TARGETS,
  commonFailures,
  formatFailures,
  formatTable,
  recordJudgement,
  summarise,
  type RunRecord,
  type Summary,
} from './eval/score';
import { sheetFrames, writeSheet, type SheetRow } from './eval/sheet';
import { judge, videoFromPixels, type Video } from './world/analyze';
import { renderClip } from './world/render';

const PACK = 'tiny-world';
const EVAL_DIR = fileURLToPath(new URL('./eval/', import.meta.url));
const SMALL_RUN_DIR = path.join(os.tmpdir(), 'tiny-world-eval');
const FULL_RUN_PROMPTS = 100;
const QUICK_PROMPTS = 16;
const SHEET_VIDEOS = 16;
const SHEET_COLUMNS = 8;
/** Prompts between interim reports. */
const REPORT_EVERY = 10;

const ArgsSchema = z
  .object({
    prompts: z.coerce.number().int().min(1).max(5000).optional(),
    quick: z.boolean().default(false),
    seed: z.coerce.number().int().min(0).max(2 ** 31).default(1),
    ablation: z.boolean().default(true),
    'no-ablation': z.boolean().default(false),
    'ceiling-only': z.boolean().default(false),
    'no-mp4-check': z.boolean().default(false),
    out: z.string().min(1).optional(),
    models: z.string().min(1).optional(),
    workflow: z.string().min(1).optional(),
    set: z.array(z.string()).default([]),
  })
  .strict();

type Args = z.infer<typeof ArgsSchema>;

function parseCommandLine(): Args {
  const { values } = parseArgs({
    options: {
      prompts: { type: 'string' },
      quick: { type: 'boolean' },
      seed: { type: 'string' },
      ablation: { type: 'boolean' },
      'no-ablation': { type: 'boolean' },
      'ceiling-only': { type: 'boolean' },
      'no-mp4-check': { type: 'boolean' },
      out: { type: 'string' },
      models: { type: 'string' },
      workflow: { type: 'string' },
      set: { type: 'string', multiple: true },
    },
  });
  const parsed = ArgsSchema.safeParse(values);
  if (!parsed.success) {
    console.error(`eval:tiny: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
    process.exit(2);
  }
  return parsed.data;
}

/** The default workflow with the run's `--set NODE.PARAM=VALUE` overrides (e.g. a sampler setting under study). */
function baseWorkflow(args: Args) {
  const overrides = parseSetOverrides(args.set);
  if ('error' in overrides) {
    console.error(`eval:tiny: ${overrides.error}`);
    process.exit(2);
  }
  return applyOverrides(loadWorkflowFile(workflowFile(args)), registry, { set: overrides.set });
}

function workflowFile(args: Args): string {
  return args.workflow === undefined ? DEFAULT_WORKFLOW : path.resolve(args.workflow);
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** "PASS" or the attributes that failed, with what was measured. */
function verdictText(record: RunRecord): string {
  if (record.pass) return 'PASS';
  const failed = ATTRIBUTES.flatMap((attribute) => {
    const v = record.verdicts[attribute];
    if (v === undefined || v.pass) return [];
    return [attribute === 'singleObject' ? 'one object' : `${attribute} ${v.expected}->${v.measured ?? 'none'}`];
  });
  return `fail: ${failed.join(', ')}`;
}

/** Decodes an exported mp4 back to RGB frames, to show that the judged frames are the file's. */
async function decodeVideoFile(file: string, width: number, height: number): Promise<Video> {
  const raw = await runFfmpeg(['-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { what: `decoding ${file}` });
  return videoFromPixels(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), width, height);
}

function meanAbsoluteDifference(a: Video, b: Video): number {
  let sum = 0;
  let count = 0;
  for (let f = 0; f < Math.min(a.frames.length, b.frames.length); f++) {
    const [x, y] = [a.frames[f]!, b.frames[f]!];
    for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
    count += x.length;
  }
  return count === 0 ? NaN : sum / count;
}

interface PromptResult {
  prompt: EvalPrompt;
  ceiling: RunRecord;
  ours?: RunRecord;
  ablation?: RunRecord;
}

interface PackInfo {
  /** The pack folder judged, relative to the repository when inside it (--models may point elsewhere). */
  dir: string;
  decoderSha256: string;
  files: Record<string, string>;
}

function packInfo(models: ModelRuntime, modelsDir: string): PackInfo {
  const manifest = models.manifest(PACK);
  const files: Record<string, string> = {};
  for (const [role, model] of Object.entries(manifest.models)) files[role] = model.sha256;
  const decoder = manifest.models.decoder;
  if (decoder === undefined) throw new Error(`pack "${PACK}" has no decoder`);
  const packDir = path.join(modelsDir, PACK);
  const relative = path.relative(ROOT_DIR, packDir);
  const dir = relative.startsWith('..') || path.isAbsolute(relative) ? packDir : relative;
  const actual = sha256File(path.join(packDir, decoder.file));
  if (actual !== decoder.sha256) throw new Error(`${dir}/${decoder.file} has sha256 ${actual} but the manifest says ${decoder.sha256} (is the pack being rewritten?)`);
  return { dir, decoderSha256: actual, files };
}

async function main(): Promise<void> {
  const args = parseCommandLine();
  const count = args.prompts ?? (args.quick ? QUICK_PROMPTS : 120);
  const ablation = args.ablation && !args['no-ablation'];
  const outDir = path.resolve(args.out ?? (count >= FULL_RUN_PROMPTS && !args['ceiling-only'] ? EVAL_DIR : SMALL_RUN_DIR));
  mkdirSync(outDir, { recursive: true });
  const started = performance.now();

  const prompts = buildPrompts(count, args.seed);
  console.log(`eval:tiny: ${describePrompts(prompts)}`);

  let models: ModelRuntime | null = null;
  let prepared: EvalWorkflow | null = null;
  let pack: PackInfo | null = null;
  if (!args['ceiling-only']) {
    const modelsDir = path.resolve(args.models ?? MODELS_DIR);
    models = new ModelRuntime(modelsDir);
    const missing = models.missing(PACK, 'decoder');
    if (missing !== null) {
      console.error(`eval:tiny: ${missing}; the product path cannot run yet (use --ceiling-only to check the eval against the renderer alone)`);
      process.exit(3);
    }
    pack = packInfo(models, modelsDir);
    prepared = prepareEvalWorkflow(baseWorkflow(args), registry, { keepExport: false });
    console.log(`eval:tiny: pack ${pack.dir}, decoder.onnx sha256 ${pack.decoderSha256}`);
    console.log(`eval:tiny: judging the frames of node "${prepared.judgedNode}" (what the export node encodes)`);
    for (const note of prepared.notes) console.log(`eval:tiny: NOTE ${note}`);
  }

  const workDir = mkdtempSync(path.join(os.tmpdir(), 'tiny-world-eval-run-'));
  const context: ProductContext | null =
    models === null
      ? null
      : {
          registry,
          models,
          // Prompt and prior outputs are shared by a prompt's two runs (with and without decoder text).
          cache: new NodeOutputCache(256 * 1024 * 1024),
          outputDir: workDir,
          inputRoots: [workDir],
          signal: new AbortController().signal,
        };

  const sheetPrompts = new Set(pickSheetPrompts(prompts, SHEET_VIDEOS).map((p) => p.index));
  const sheetVideos = new Map<number, { ours?: Video; ablation?: Video; ceiling: Video }>();
  const results: PromptResult[] = [];
  let judgedFrames: { width: number; height: number; count: number; fps: number } | null = null;
  let mp4Check: Record<string, unknown> | null = null;
  const judgeMs: number[] = [];
  const nodeTimes = new Map<string, number[]>();
  const addNodeTimes = (times: Record<string, number>) => {
    for (const [node, ms] of Object.entries(times)) nodeTimes.set(node, [...(nodeTimes.get(node) ?? []), ms]);
  };

  /** Writes results.json, results.md and the sheets; called every few prompts too, so a cut-short run leaves its numbers. */
  const writeReport = async () => {
    const completed = results.length;
    const ablationCompleted = results.filter((r) => r.ablation !== undefined).length;
    const partial = completed < count || (ablation && context !== null && ablationCompleted < count);
    const summaries: { ours?: Summary; ablation?: Summary; ceiling: Summary } = {
      ceiling: summarise(results.map((r) => r.ceiling)),
    };
    const oursRecords = results.flatMap((r) => (r.ours ? [r.ours] : []));
    const ablationRecords = results.flatMap((r) => (r.ablation ? [r.ablation] : []));
    if (oursRecords.length > 0) summaries.ours = summarise(oursRecords);
    if (ablationRecords.length > 0) summaries.ablation = summarise(ablationRecords);
    const wholeTuple = results.filter((r) => r.prompt.namesWholeTuple);
    const wholeTupleSummary = {
      prompts: wholeTuple.length,
      ours: summaries.ours ? summarise(wholeTuple.flatMap((r) => (r.ours ? [r.ours] : []))).overall : null,
      ablation: summaries.ablation ? summarise(wholeTuple.flatMap((r) => (r.ablation ? [r.ablation] : []))).overall : null,
      ceiling: summarise(wholeTuple.map((r) => r.ceiling)).overall,
    };

    const table = summaries.ours
      ? formatTable({ ours: summaries.ours, ablation: summaries.ablation, ceiling: summaries.ceiling })
      : formatTable({ ours: summaries.ceiling }, 'renderer (ceiling-only run)');
    const oursMs = oursRecords.map((r) => r.ms!);
    const ablationMs = ablationRecords.map((r) => r.ms!);
    const timing = {
      oursMedianMs: Math.round(median(oursMs)),
      oursMeanMs: Math.round(mean(oursMs)),
      oursMaxMs: oursMs.length ? Math.round(Math.max(...oursMs)) : null,
      ablationMedianMs: Math.round(median(ablationMs)),
      judgeMeanMs: Math.round(mean(judgeMs)),
      // Means over the runs in which each node ran (prompt and prior run once per prompt, then come from the cache).
      nodeMeanMs: Object.fromEntries([...nodeTimes].map(([node, times]) => [node, Math.round(mean(times))])),
      totalSeconds: Math.round((performance.now() - started) / 1000),
    };
    const failures = {
      ours: commonFailures(oursRecords),
      ablation: commonFailures(ablationRecords),
      ceiling: commonFailures(results.map((r) => r.ceiling)),
    };
    const framesNote = judgedFrames
      ? `${judgedFrames.count} frames of ${judgedFrames.width}x${judgedFrames.height} at ${judgedFrames.fps} fps from node "${prepared!.judgedNode}"`
      : 'renderer only';

    // Contact sheets: the 16 sheet prompts, ours (and the ablation) and the renderer's clips of the same scenes.
    const sheetOrder = pickSheetPrompts(prompts, SHEET_VIDEOS).filter((p) => p.index < completed);
    const sheetFiles: Record<string, string> = {};
    const sheetRows = (kind: 'ours' | 'ablation' | 'ceiling'): SheetRow[] =>
      sheetOrder.flatMap((p) => {
        const video = sheetVideos.get(p.index)?.[kind];
        const record = results[p.index]?.[kind];
        return video && record ? [{ video, pass: record.pass }] : [];
      });
    for (const [kind, file] of [['ours', 'contact-sheet.png'], ['ablation', 'contact-sheet-no-decoder-text.png'], ['ceiling', 'contact-sheet-renderer.png']] as const) {
      const rows = sheetRows(kind);
      if (rows.length === 0) continue;
      await writeSheet(path.join(outDir, file), rows, SHEET_COLUMNS);
      sheetFiles[kind] = file;
    }

    const command = `npm run eval:tiny -- ${process.argv.slice(2).join(' ')}`.trim();
    const resultsJson = {
      createdAt: new Date().toISOString(),
      command,
      options: { prompts: count, seed: args.seed, ablation, ceilingOnly: args['ceiling-only'] },
      completed,
      ablationCompleted,
      partial,
      pack: pack === null ? null : { name: PACK, ...pack },
      workflow: prepared === null ? null : { file: path.relative(ROOT_DIR, workflowFile(args)), judgedNode: prepared.judgedNode, notes: prepared.notes, frames: judgedFrames },
      prompts: describePrompts(prompts),
      targets: TARGETS,
      summary: summaries,
      wholeTuple: wholeTupleSummary,
      timing,
      mp4Check,
      failures,
      sheets: { files: sheetFiles, prompts: sheetOrder.map((p) => p.index) },
      videos: results.map((r) => ({
        index: r.prompt.index,
        caption: r.prompt.caption,
        seed: r.prompt.seed,
        scene: r.prompt.attributes,
        named: r.prompt.named,
        namesWholeTuple: r.prompt.namesWholeTuple,
        ours: r.ours ?? null,
        ablation: r.ablation ?? null,
        ceiling: r.ceiling,
      })),
    };
    writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(resultsJson, null, 1)}\n`);

    const ablationTime = Number.isFinite(timing.ablationMedianMs) ? seconds(timing.ablationMedianMs) : 'not run';
    const pct = (t: { passed: number; judged: number } | null) => (t === null || t.judged === 0 ? 'not run' : `${((100 * t.passed) / t.judged).toFixed(1)}% (${t.passed}/${t.judged})`);
    const md = [
      '# tiny-world eval',
      '',
      `Written by \`${command}\` (models/tiny-world/eval.ts) on ${resultsJson.createdAt}.`,
      pack ? `Pack: ${pack.dir}, decoder.onnx sha256 \`${pack.decoderSha256}\`.` : 'No pack: renderer (ceiling) only.',
      `Prompts: ${describePrompts(prompts)} (seed ${args.seed}).`,
      ...(partial ? [`**Partial:** ${completed} of ${count} prompts generated, ${ablationCompleted} of them again without decoder text, when this was written (the run was still going or was cut short).`] : []),
      `Judged: ${framesNote}, with \`judge()\` of models/tiny-world/world/analyze.ts against the attributes each prompt names.`,
      ...(prepared?.notes.map((n) => `**Note:** ${n}.`) ?? []),
      '',
      table,
      '',
      `Overall on the ${wholeTupleSummary.prompts} prompts that name the whole held-out tuple (colour, shape, motion, background): ` +
        `ours ${pct(wholeTupleSummary.ours)}, no decoder text ${pct(wholeTupleSummary.ablation)}, renderer ${pct(wholeTupleSummary.ceiling)}.`,
      '',
      summaries.ours
        ? `Time per video through the engine (default workflow, warm sessions after the first): median ${seconds(timing.oursMedianMs)}, mean ${seconds(timing.oursMeanMs)}, ` +
          `max ${seconds(timing.oursMaxMs ?? NaN)}; without decoder text median ${ablationTime}; judging ${timing.judgeMeanMs} ms per video; whole eval ${timing.totalSeconds} s. ` +
          `Mean per node (first video, which loads the sessions, left out): ${Object.entries(timing.nodeMeanMs).map(([node, ms]) => `${node} ${ms} ms`).join(', ')}.`
        : `Whole run ${timing.totalSeconds} s.`,
      mp4Check ? `mp4 check (first prompt, exported and decoded again): ${JSON.stringify(mp4Check)}.` : '',
      '',
      '## Most common failures',
      '',
      ...(summaries.ours ? ['Ours:', '', formatFailures(failures.ours), ''] : []),
      ...(summaries.ablation ? ['Without decoder text:', '', formatFailures(failures.ablation), ''] : []),
      'Renderer (the judge\u2019s own errors):',
      '',
      formatFailures(failures.ceiling),
      '',
      '## Contact sheet',
      '',
      `Rows: the ${sheetOrder.length} prompts below, top to bottom; columns: ${SHEET_COLUMNS} frames spread over the clip; left stripe green = obeys every named attribute, red = not.`,
      '',
      ...(sheetFiles.ours ? ['![generated videos](contact-sheet.png)', ''] : []),
      ...Object.entries(sheetFiles).map(([kind, file]) => `- ${kind === 'ours' ? 'generated' : kind === 'ablation' ? 'generated without decoder text' : 'renderer (ceiling)'}: [${file}](${file})`),
      '',
      '| row | prompt | ours | no decoder text | renderer |',
      '| --- | --- | --- | --- | --- |',
      ...sheetOrder.map((p, row) => {
        const r = results[p.index]!;
        return `| ${row + 1} | ${p.caption} | ${r.ours ? verdictText(r.ours) : '-'} | ${r.ablation ? verdictText(r.ablation) : '-'} | ${verdictText(r.ceiling)} |`;
      }),
      '',
    ].join('\n');
    writeFileSync(path.join(outDir, 'results.md'), md);
    return { table, wholeTupleSummary, pct, timing, ablationTime, framesNote, sheetFiles, summaries };
  };

  const labelOf = (prompt: EvalPrompt) => `${String(prompt.index + 1).padStart(String(count).length)}/${count}`;
  // Phase 1: ours and the ceiling for every prompt; phase 2: the ablation. Ours comes first
  // so that a run cut short still has the main measurement over all prompts.
  for (const prompt of prompts) {
    let ours: RunRecord | undefined;
    let oursVideo: Video | undefined;
    if (context !== null && prepared !== null) {
      // The first video also goes through the export node, and its mp4 is decoded and judged too.
      const checkMp4 = prompt.index === 0 && !args['no-mp4-check'];
      const setup = checkMp4 ? prepareEvalWorkflow(baseWorkflow(args), registry, { keepExport: true }) : prepared;
      const made = await generateVideo(setup, workflowForPrompt(setup, registry, prompt, true), context);
      judgedFrames ??= { width: made.video.width, height: made.video.height, count: made.video.frames.length, fps: made.fps };
      const judgeStarted = performance.now();
      const judgement = judge(made.video, prompt.named);
      judgeMs.push(performance.now() - judgeStarted);
      ours = recordJudgement(judgement, made.ms);
      if (prompt.index > 0) addNodeTimes(made.nodeMs);
      oursVideo = made.video;
      if (checkMp4 && made.exportedFile !== null) {
        const decoded = await decodeVideoFile(made.exportedFile, made.video.width, made.video.height);
        const fileJudgement = judge(decoded, prompt.named);
        mp4Check = {
          prompt: prompt.caption,
          framesJudged: made.video.frames.length,
          framesInFile: decoded.frames.length,
          meanAbsoluteDifference: Number(meanAbsoluteDifference(made.video, decoded).toFixed(2)),
          judgedPass: judgement.pass,
          filePass: fileJudgement.pass,
          sameVerdicts: ATTRIBUTES.every((a) => judgement.verdicts[a]?.pass === fileJudgement.verdicts[a]?.pass),
        };
        console.log(`eval:tiny: mp4 check: ${JSON.stringify(mp4Check)}`);
      }
    }
    const ceilingWidth = judgedFrames?.width ?? 128;
    const rendered = videoFromPixels(renderClip(prompt.attributes, prompt.seed, { width: ceilingWidth }), ceilingWidth);
    const ceiling = recordJudgement(judge(rendered, prompt.named));
    results.push({ prompt, ceiling, ours });
    if (sheetPrompts.has(prompt.index)) {
      sheetVideos.set(prompt.index, { ceiling: sheetFrames(rendered, SHEET_COLUMNS), ...(oursVideo ? { ours: sheetFrames(oursVideo, SHEET_COLUMNS) } : {}) });
    }
    const parts = [ours ? `ours ${seconds(ours.ms!)} ${verdictText(ours)}` : null, `ceiling ${verdictText(ceiling)}`].filter((p) => p !== null);
    console.log(`${labelOf(prompt)}  ${parts.join(' | ')} | "${prompt.caption}"`);
    if (results.length % REPORT_EVERY === 0 && results.length < prompts.length) await writeReport();
  }
  if (ablation && context !== null && prepared !== null) {
    console.log('eval:tiny: the ablation: the same prompts and seeds, keyframes node with decoderText false');
    for (const prompt of prompts) {
      const plain = await generateVideo(prepared, workflowForPrompt(prepared, registry, prompt, false), context);
      const noText = recordJudgement(judge(plain.video, prompt.named), plain.ms);
      addNodeTimes(plain.nodeMs);
      results[prompt.index]!.ablation = noText;
      const sheet = sheetVideos.get(prompt.index);
      if (sheet) sheet.ablation = sheetFrames(plain.video, SHEET_COLUMNS);
      console.log(`${labelOf(prompt)}  no text ${seconds(noText.ms!)} ${verdictText(noText)} | ours ${verdictText(results[prompt.index]!.ours!)} | "${prompt.caption}"`);
      if ((prompt.index + 1) % REPORT_EVERY === 0 && prompt.index + 1 < prompts.length) await writeReport();
    }
  }

  const { table, wholeTupleSummary, pct, timing, ablationTime, framesNote, sheetFiles, summaries } = await writeReport();
  rmSync(workDir, { recursive: true, force: true });
  await models?.release();

  console.log('');
  console.log(table);
  console.log('');
  console.log(
    `overall on the ${wholeTupleSummary.prompts} prompts naming the whole held-out tuple: ours ${pct(wholeTupleSummary.ours)}, ` +
      `no decoder text ${pct(wholeTupleSummary.ablation)}, renderer ${pct(wholeTupleSummary.ceiling)}`,
  );
  if (summaries.ours) {
    console.log(`time per video: median ${seconds(timing.oursMedianMs)}, mean ${seconds(timing.oursMeanMs)} (no decoder text: median ${ablationTime}); whole eval ${timing.totalSeconds} s`);
    console.log(`mean per node: ${Object.entries(timing.nodeMeanMs).map(([node, ms]) => `${node} ${ms} ms`).join(', ')}`);
  }
  console.log(`pack: ${pack ? `${pack.dir}, decoder.onnx sha256 ${pack.decoderSha256}` : 'none (renderer only)'}; judged: ${framesNote}`);
  for (const key of [...ATTRIBUTES, 'overall'] as const) {
    const tally = summaries.ours?.[key];
    const target = TARGETS[key];
    if (tally && target !== undefined && tally.judged > 0 && tally.passed / tally.judged < target) console.log(`below target: ${ATTRIBUTE_LABELS[key]}`);
  }
  console.log(`wrote ${path.join(outDir, 'results.md')}, results.json${Object.values(sheetFiles).length ? `, ${Object.values(sheetFiles).join(', ')}` : ''}`);
}

await main();
