import { describe, expect, it } from 'vitest';
import { registry } from '../../../nodes/registry';
import { validateWorkflow, type Registry } from '../../../nodes/core/validate';
import path from 'node:path';
import { DEFAULT_WORKFLOW, WORKFLOWS_DIR } from '../../../server/paths';
import { judge, videoFromPixels } from '../world/analyze';
import { parseCaption } from '../world/captions';
import { isHeldOut } from '../world/heldout';
import { renderClip } from '../world/render';
import { MOTIONS, type ClipAttributes } from '../world/vocabulary';
import { loadWorkflowFile, prepareEvalWorkflow, workflowForPrompt } from './product';
import { buildPrompts, pickSheetPrompts } from './prompts';
import { commonFailures, formatTable, meetsTarget, recordJudgement, summarise } from './score';
import { renderSheet, spreadFrames } from './sheet';

describe('eval prompts', () => {
  const prompts = buildPrompts(120, 1);

  it('are held-out scenes whose captions name only what the scene shows', () => {
    expect(prompts).toHaveLength(120);
    for (const prompt of prompts) {
      expect(isHeldOut(prompt.attributes)).toBe(true);
      const parsed = parseCaption(prompt.caption);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.attributes).toEqual(prompt.named);
      for (const [key, value] of Object.entries(prompt.named)) expect(prompt.attributes[key as keyof ClipAttributes]).toBe(value);
    }
    // 120 of the 150 tuples: none repeated before the list is used up.
    expect(new Set(prompts.map((p) => JSON.stringify([p.attributes.colour, p.attributes.shape, p.attributes.motion, p.attributes.background]))).size).toBe(120);
  });

  it('are deterministic by seed and differ across seeds', () => {
    expect(buildPrompts(120, 1)).toEqual(prompts);
    const other = buildPrompts(120, 2);
    expect(other.map((p) => p.caption)).not.toEqual(prompts.map((p) => p.caption));
    expect(new Set(prompts.map((p) => p.seed)).size).toBe(120);
  });

  it('vary their wording but name the shape always and the motion mostly', () => {
    expect(prompts.every((p) => p.named.shape !== undefined)).toBe(true);
    expect(prompts.filter((p) => p.named.motion !== undefined).length).toBeGreaterThanOrEqual(0.85 * prompts.length);
    expect(prompts.filter((p) => p.namesWholeTuple).length).toBeGreaterThanOrEqual(0.6 * prompts.length);
    expect(prompts.some((p) => p.named.colour === undefined)).toBe(true);
    expect(prompts.some((p) => p.named.background === undefined)).toBe(true);
    const text = prompts.map((p) => p.caption).join('\n');
    for (const synonym of ['ball', 'box', 'rhombus', 'sliding', 'going', 'hopping', 'getting']) expect(text).toContain(synonym);
    // Optional parts in both orders.
    expect(prompts.some((p) => /background (moving|going|sliding|growing|shrinking|getting|bouncing|hopping|standing|not)/.test(p.caption))).toBe(true);
    expect(prompts.some((p) => /(left|right|up|down|growing|shrinking|bigger|smaller|bouncing|hopping|still|moving) on a/.test(p.caption))).toBe(true);
    expect(new Set(prompts.map((p) => p.attributes.motion)).size).toBe(MOTIONS.length);
  });

  it('go past the 150 held-out tuples by starting a new pass', () => {
    const many = buildPrompts(200, 3);
    expect(many).toHaveLength(200);
    expect(many.every((p) => isHeldOut(p.attributes))).toBe(true);
  });

  it('pick a contact sheet with every motion twice', () => {
    const sheet = pickSheetPrompts(prompts, 16);
    expect(sheet).toHaveLength(16);
    for (const motion of MOTIONS) expect(sheet.filter((p) => p.attributes.motion === motion)).toHaveLength(2);
    expect(sheet.every((p) => p.named.motion !== undefined)).toBe(true);
  });
});

describe('eval scoring', () => {
  const scene: ClipAttributes = { colour: 'red', background: 'navy', shape: 'circle', size: 'big', motion: 'left' };
  const video = videoFromPixels(renderClip(scene, 5, { width: 128 }), 128);

  it('passes the renderer clip of the named scene and fails a wrong motion and colour', () => {
    const right = recordJudgement(judge(video, { colour: 'red', shape: 'circle', motion: 'left', background: 'navy' }));
    const wrong = recordJudgement(judge(video, { colour: 'blue', shape: 'circle', motion: 'right' }));
    expect(right.pass).toBe(true);
    expect(wrong.pass).toBe(false);
    const summary = summarise([right, wrong]);
    expect(summary.overall).toEqual({ passed: 1, judged: 2 });
    expect(summary.motion).toEqual({ passed: 1, judged: 2 });
    expect(summary.colour).toEqual({ passed: 1, judged: 2 });
    expect(summary.shape).toEqual({ passed: 2, judged: 2 });
    // Named by one prompt only; size by none.
    expect(summary.background).toEqual({ passed: 1, judged: 1 });
    expect(summary.size).toEqual({ passed: 0, judged: 0 });
    expect(summary.singleObject).toEqual({ passed: 2, judged: 2 });
    expect(commonFailures([right, wrong]).motion).toEqual([{ what: 'right -> left', count: 1 }]);
  });

  it('compares with the targets and prints every row', () => {
    expect(meetsTarget('shape', { passed: 85, judged: 100 })).toBe(true);
    expect(meetsTarget('shape', { passed: 84, judged: 100 })).toBe(false);
    expect(meetsTarget('size', { passed: 1, judged: 100 })).toBe(null);
    const summary = summarise([recordJudgement(judge(video, { motion: 'left' }))]);
    const table = formatTable({ ours: summary, ceiling: summary });
    expect(table.split('\n')).toHaveLength(2 + 7);
    expect(table).toContain('| motion | >= 90% | 100.0% (1/1) | yes | not run | 100.0% (1/1) |');
    expect(table).toContain('| colour | >= 97% | not named | - |');
  });
});

describe('eval workflow', () => {
  const base = loadWorkflowFile(DEFAULT_WORKFLOW);

  it('drops the export node and judges what it would have encoded', () => {
    const prepared = prepareEvalWorkflow(base, registry, { keepExport: false });
    expect(prepared.workflow.nodes.some((n) => n.type === 'export')).toBe(false);
    const exportInput = base.edges.find((e) => e.to.node === 'export')!.from.node;
    expect(prepared.judgedNode).toBe(exportInput);
    const kept = prepareEvalWorkflow(base, registry, { keepExport: true });
    expect(kept.exportNode).toBe('export');
  });

  it('bypasses a node type the registry lacks and says so', () => {
    const { upscale: _dropped, ...withoutUpscale } = registry as Registry;
    // the fast example, where the upscale sits between interpolation and export
    const fast = loadWorkflowFile(path.join(WORKFLOWS_DIR, 'text-to-video-fast.json'));
    const prepared = prepareEvalWorkflow(fast, withoutUpscale, { keepExport: true });
    expect(prepared.judgedNode).toBe('interpolate');
    expect(prepared.notes.join(' ')).toContain('"upscale"');
    expect(prepared.workflow.edges).toContainEqual({ from: { node: 'interpolate', port: 'frames' }, to: { node: 'export', port: 'frames' } });
    expect(prepared.workflow.nodes.some((n) => n.type === 'upscale')).toBe(false);
    expect(validateWorkflow(prepared.workflow, withoutUpscale).ok).toBe(true);
  });

  it('sets the prompt, the seed and the decoder text switch, and stays valid', () => {
    const prepared = prepareEvalWorkflow(base, registry, { keepExport: false });
    const workflow = workflowForPrompt(prepared, registry, { caption: 'a big pink disc hopping', seed: 4242 }, false);
    const params = (id: string) => workflow.nodes.find((n) => n.id === id)!.params;
    expect(params('prompt').text).toBe('a big pink disc hopping');
    expect(params('keyframes').seed).toBe(4242);
    expect(params('keyframes').decoderText).toBe(false);
    expect(validateWorkflow(workflow, registry).ok).toBe(true);
    // the ablation turns the text off in every node that runs a diffusion model, refine too
    const refine = workflow.nodes.find((n) => n.type === 'refine')!.params;
    expect([refine.decoderText, refine.seed]).toEqual([false, 4242]);
    expect(prepared.judgedNode).toBe('interpolate');
    // The prepared workflow itself is untouched, so runs do not leak into each other.
    expect(prepared.workflow.nodes.find((n) => n.id === 'keyframes')!.params.seed).toBe(7);
  });
});

describe('eval contact sheet', () => {
  it('spreads frames over the clip and marks pass and fail', () => {
    expect(spreadFrames(29, 8)).toEqual([0, 4, 8, 12, 16, 20, 24, 28]);
    expect(spreadFrames(5, 8)).toEqual([0, 1, 2, 3, 4]);
    const video = videoFromPixels(renderClip({ colour: 'red', background: 'navy', shape: 'star', size: 'big', motion: 'up' }, 1, { width: 32 }), 32);
    const { pixels, width, height } = renderSheet([{ video, pass: true }, { video, pass: false }], 8);
    expect([width, height]).toEqual([6 + 2 + 8 * 34, 2 * 34]);
    expect([...pixels.subarray(0, 3)]).toEqual([40, 170, 60]);
    expect([...pixels.subarray(34 * width * 3, 34 * width * 3 + 3)]).toEqual([210, 40, 40]);
  });
});
