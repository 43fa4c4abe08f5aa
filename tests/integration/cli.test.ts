/** The command line as a user runs it: a real process, real models, real ffmpeg. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT_DIR } from '../../server/paths';
import { ffprobe } from '../helpers/studio';

function generate(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT_DIR, 'server', 'cli.ts'), ...args], {
    cwd: ROOT_DIR,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cli-'));

describe('npm run generate', () => {
  it('writes the video, prints its path on stdout and progress on stderr', () => {
    const out = path.join(tmp, 'video.mp4');
    const r = generate('--prompt', 'a blue star moving left on a sand background', '--seed', '7', '--out', out);
    expect(r.stderr).toMatch(/\[keyframes\] done in/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    expect(ffprobe(out)).toMatchObject({ frames: 29, width: 128, height: 128, fps: 8 });
  });

  it('picks the export format from --out and reopens the workflow from the file it wrote', () => {
    const gif = path.join(tmp, 'again.gif');
    const r = generate('--workflow', path.join(tmp, 'video.mp4'), '--out', gif, '--set', 'keyframes.steps=4');
    expect(r.code).toBe(0);
    expect(ffprobe(gif).frames).toBe(29);
  });

  it('exit 2 on a bad command line', () => {
    const r = generate('--seed', 'seven');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--seed: expected a whole number/);
  });

  it('exit 3 on an invalid workflow, listing every problem per node', () => {
    const r = generate('--set', 'keyframes.steps=1000000000', '--set', 'upscale.scale=5', '--prompt', 'a red dragon');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/node "keyframes" \(params\.steps\): must be at most 200/);
    expect(r.stderr).toMatch(/node "upscale" \(params\.scale\)/);
    expect(r.stderr).toMatch(/unknown word "dragon"/);
    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, '{"nodes": [');
    expect(generate('--workflow', bad).code).toBe(3);
  });

  it('exit 4 when a node fails, naming it', () => {
    const wf = {
      format: 'make-a-video-studio/workflow',
      version: 1,
      name: 'missing input',
      nodes: [
        { id: 'load', type: 'load-image', params: { path: 'no-such-picture.png' }, position: { x: 0, y: 0 } },
        { id: 'export', type: 'export', params: {}, position: { x: 0, y: 0 } },
      ],
      edges: [{ from: { node: 'load', port: 'image' }, to: { node: 'export', port: 'frames' } }],
      meta: {},
    };
    const file = path.join(tmp, 'missing.json');
    writeFileSync(file, JSON.stringify(wf));
    const r = generate('--workflow', file);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/node "load"/);
  });
});
