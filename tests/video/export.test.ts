import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrangeFrames, exportFrames, exportNode, exportParams, padToEven } from '../../nodes/export';
import { canonicalJson } from '../../nodes/core/workflow';
import { ffmpegPath, ffprobePath, probeVideo } from '../../nodes/lib/ffmpeg';
import { addPngText, readGifComments, readPngText, readWorkflowFromMedia } from '../../nodes/lib/media-metadata';
import { readZip, writeZip } from '../../nodes/lib/zip';
import { makeContext, SAMPLE_WORKFLOW, sampleWorkflow, slidingSquare, tempDir } from './helpers';

const VIDEO_FORMATS = ['mp4', 'webm', 'gif'] as const;

describe('export: ffprobe sees the frames, size and fps asked for', () => {
  for (const format of VIDEO_FORMATS) {
    for (const [w, h, n, fps] of [
      [64, 64, 29, 8],
      [63, 47, 10, 12],
      [128, 96, 5, 24],
    ] as const) {
      it(`${format} ${w}x${h}, ${n} frames at ${fps} fps`, async () => {
        const ctx = makeContext({});
        const file = await exportFrames(ctx, slidingSquare(n, w, h, fps), exportParams.parse({ format, fps, filename: 'clip' }));
        expect(file.name).toBe(`clip.${format}`);
        expect(path.dirname(file.path)).toBe(ctx.outputDir);
        const probe = await probeVideo(file.path, { countFrames: true });
        expect(probe.frames).toBe(n);
        const evenW = format === 'mp4' ? w + (w % 2) : w;
        const evenH = format === 'mp4' ? h + (h % 2) : h;
        expect([probe.width, probe.height]).toEqual([evenW, evenH]);
        expect([file.width, file.height, file.frames, file.fps]).toEqual([evenW, evenH, n, fps]);
        // GIF delays are whole centiseconds and ffprobe's rate for a GIF is a guess from the
        // first delays; the clip's real rate is frames over its duration.
        if (format === 'gif') expect(Math.abs(n / probe.durationSeconds! - fps) / fps).toBeLessThan(0.03);
        else expect(probe.fps).toBeCloseTo(fps, 5);
        if (format === 'mp4') expect([probe.codec, probe.pixFmt]).toEqual(['h264', 'yuv420p']);
        if (format === 'webm') expect(probe.codec).toBe('vp9');
        expect(file.bytes).toBe(readFileSync(file.path).length);
        // Nothing half-written is left behind.
        expect(readdirSync(ctx.outputDir).filter((f) => f.startsWith('.'))).toEqual([]);
      });
    }
  }

  it('png: a zip of numbered PNG frames that ffprobe reads at the right size, plus frames.json', async () => {
    const ctx = makeContext({});
    const file = await exportFrames(ctx, slidingSquare(7, 33, 21, 5), exportParams.parse({ format: 'png', filename: 'frames' }));
    expect(file.name).toBe('frames.zip');
    expect(file.mime).toBe('application/zip');
    const entries = readZip(readFileSync(file.path));
    const pngs = entries.filter((e) => e.name.endsWith('.png'));
    expect(pngs.map((e) => e.name)).toEqual(Array.from({ length: 7 }, (_, i) => `frame_0000${i + 1}.png`));
    const index = JSON.parse(Buffer.from(entries.find((e) => e.name === 'frames.json')!.data).toString('utf8'));
    expect(index).toMatchObject({ width: 33, height: 21, fps: 5 });
    const dir = tempDir();
    for (const png of pngs) writeFileSync(path.join(dir, png.name), png.data);
    const probe = await probeVideo(path.join(dir, pngs[3]!.name), { countFrames: true });
    expect([probe.width, probe.height, probe.frames, probe.codec]).toEqual([33, 21, 1, 'png']);
    // ffprobe as an image sequence at the stored fps sees every frame.
    const seq = execFileSync(ffprobePath, [
      '-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height',
      '-of', 'json', '-framerate', '5', '-i', path.join(dir, 'frame_%05d.png'),
    ]).toString();
    expect(JSON.parse(seq).streams[0]).toMatchObject({ width: 33, height: 21, nb_read_frames: '7' });
    expect(readPngText(pngs[0]!.data).fps).toBe('5');
  });
});

describe('export: the workflow and seed round-trip through every format', () => {
  it('png of a single frame is a plain PNG carrying the workflow', async () => {
    const ctx = makeContext({});
    const file = await exportFrames(ctx, slidingSquare(1, 20, 12), exportParams.parse({ format: 'png', filename: 'still' }));
    expect([file.name, file.mime, file.frames, file.width, file.height]).toEqual(['still.png', 'image/png', 1, 20, 12]);
    const probe = await probeVideo(file.path);
    expect([probe.codec, probe.width, probe.height]).toEqual(['png', 20, 12]);
    const back = await readWorkflowFromMedia(file.path);
    expect(canonicalJson(back.workflow)).toBe(canonicalJson(SAMPLE_WORKFLOW));
  });

  for (const format of [...VIDEO_FORMATS, 'png'] as const) {
    it(`${format}: same workflow bytes after canonicalJson, same seed, from a path and from bytes`, async () => {
      const ctx = makeContext({ seed: 4_000_000_007 });
      const file = await exportFrames(ctx, slidingSquare(4, 32, 32), exportParams.parse({ format, filename: 'rt' }));
      for (const source of [file.path, new Uint8Array(readFileSync(file.path))]) {
        const back = await readWorkflowFromMedia(source);
        expect(canonicalJson(back.workflow)).toBe(canonicalJson(SAMPLE_WORKFLOW));
        expect(back.seed).toBe(4_000_000_007);
      }
    });
  }

  it('the sample workflow is long enough to catch truncation', () => {
    expect(canonicalJson(SAMPLE_WORKFLOW).length).toBeGreaterThan(4000);
  });

  for (const format of ['mp4', 'webm'] as const) {
    it(`${format}: a workflow too big for one ffmpeg argument still round-trips (compressed comment)`, async () => {
      const big = sampleWorkflow(450, 120);
      expect(Buffer.byteLength(canonicalJson(big))).toBeGreaterThan(131_072);
      const ctx = makeContext({ workflow: big, seed: 9 });
      const file = await exportFrames(ctx, slidingSquare(3, 16, 16), exportParams.parse({ format }));
      const back = await readWorkflowFromMedia(file.path);
      expect(canonicalJson(back.workflow)).toBe(canonicalJson(big));
      expect(back.seed).toBe(9);
    });
  }

  it('mp4: the workflow survives muxing in audio with plain ffmpeg (the ComfyUI failure)', async () => {
    const ctx = makeContext({});
    const file = await exportFrames(ctx, slidingSquare(8, 32, 32), exportParams.parse({ format: 'mp4', filename: 'silent' }));
    const muxed = path.join(ctx.outputDir, 'with-audio.mp4');
    execFileSync(ffmpegPath, [
      '-v', 'error', '-y', '-i', file.path, '-f', 'lavfi', '-i', 'anullsrc=r=44100:cl=mono', '-shortest',
      '-map', '0:v', '-map', '1:a', '-c:v', 'copy', '-c:a', 'aac', muxed,
    ]);
    const back = await readWorkflowFromMedia(muxed);
    expect(canonicalJson(back.workflow)).toBe(canonicalJson(SAMPLE_WORKFLOW));
    expect(back.seed).toBe(ctx.seed);
  });

  it('a file without a workflow gives a clear error', async () => {
    const dir = tempDir();
    const plain = path.join(dir, 'plain.mp4');
    execFileSync(ffmpegPath, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=4', '-frames:v', '4', '-pix_fmt', 'yuv420p', plain]);
    await expect(readWorkflowFromMedia(plain)).rejects.toThrow(/carries no workflow/);
    await expect(readWorkflowFromMedia(new TextEncoder().encode('not a video at all'))).rejects.toThrow(/not a media file/);
    await expect(readWorkflowFromMedia(new Uint8Array())).rejects.toThrow(/empty/);
  });

  it('gif keeps the envelope in a Comment Extension', async () => {
    const ctx = makeContext({});
    const file = await exportFrames(ctx, slidingSquare(3, 16, 16), exportParams.parse({ format: 'gif', filename: 'c' }));
    const comments = readGifComments(readFileSync(file.path));
    expect(comments).toHaveLength(1);
    expect(JSON.parse(comments[0]!).seed).toBe(ctx.seed);
  });
});

describe('export: loop, ping-pong, names, cancellation', () => {
  it('ping-pong plays back without doubling the end frames; loop repeats videos', () => {
    const f = [1, 2, 3, 4].map((v) => Uint8Array.of(v));
    const ids = (frames: Uint8Array[]) => frames.map((x) => x[0]);
    expect(ids(arrangeFrames(f, { format: 'mp4', loop: 0, pingPong: true }))).toEqual([1, 2, 3, 4, 3, 2]);
    expect(ids(arrangeFrames(f, { format: 'mp4', loop: 2, pingPong: false }))).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(ids(arrangeFrames(f, { format: 'gif', loop: 3, pingPong: false }))).toEqual([1, 2, 3, 4]);
  });

  it('ping-pong mp4 has 2n-2 frames', async () => {
    const file = await exportFrames(makeContext({}), slidingSquare(6, 32, 32), exportParams.parse({ format: 'mp4', pingPong: true }));
    expect((await probeVideo(file.path, { countFrames: true })).frames).toBe(10);
  });

  it('gif loop count: 0 loops forever, 1 plays once, n plays n times', async () => {
    const netscape = (bytes: Buffer) => {
      const at = bytes.indexOf('NETSCAPE2.0');
      return at < 0 ? null : bytes.readUInt16LE(at + 13);
    };
    const ctx = makeContext({});
    const make = async (loop: number) =>
      readFileSync((await exportFrames(ctx, slidingSquare(3, 16, 16), exportParams.parse({ format: 'gif', loop, filename: `l${loop}` }))).path);
    expect(netscape(await make(0))).toBe(0);
    expect(netscape(await make(1))).toBeNull();
    expect(netscape(await make(3))).toBe(2);
  });

  it('never overwrites: a second export of the same name gets a suffix', async () => {
    const ctx = makeContext({});
    const p = exportParams.parse({ format: 'gif', filename: 'same' });
    const a = await exportFrames(ctx, slidingSquare(2, 16, 16), p);
    const b = await exportFrames(ctx, slidingSquare(2, 16, 16), p);
    expect([a.name, b.name]).toEqual(['same.gif', 'same-2.gif']);
  });

  it('rejects unsafe file names and unknown formats at the params boundary', () => {
    for (const filename of ['../../etc/passwd', 'a/b', '.hidden', 'x.mp4', '', 'a'.repeat(200)]) {
      expect(exportParams.safeParse({ filename }).success, filename).toBe(false);
    }
    expect(exportParams.safeParse({ format: 'avi' }).success).toBe(false);
    expect(exportParams.safeParse({ fps: -1 }).success).toBe(false);
  });

  it('a cancelled export leaves no file behind', async () => {
    const ctx = makeContext({});
    ctx.abort();
    await expect(exportFrames(ctx, slidingSquare(20, 64, 64), exportParams.parse({ format: 'mp4' }))).rejects.toThrow(/cancel/);
    expect(readdirSync(ctx.outputDir)).toEqual([]);
  });

  for (const format of ['mp4', 'webm', 'gif', 'png'] as const) {
    it(`${format}: cancelling mid-encode leaves no file, not even a temp file`, async () => {
      const ctx = makeContext({});
      ctx.progress = (done) => {
        if (done >= 3) ctx.abort();
      };
      await expect(exportFrames(ctx, slidingSquare(200, 64, 64), exportParams.parse({ format }))).rejects.toThrow(/cancel/);
      expect(readdirSync(ctx.outputDir)).toEqual([]);
    });
  }

  it('odd sizes are padded by repeating the edge, not with black', () => {
    const frame = Uint8Array.from({ length: 3 * 3 * 3 }, (_, i) => i);
    const padded = padToEven(frame, 3, 3);
    expect([padded.width, padded.height]).toEqual([4, 4]);
    expect(Array.from(padded.frame.subarray(9, 12))).toEqual(Array.from(frame.subarray(6, 9)));
    expect(Array.from(padded.frame.subarray(36, 48))).toEqual(Array.from(padded.frame.subarray(24, 36)));
  });

  it('is volatile, so a re-run writes into the new job folder', () => {
    expect(exportNode.volatile).toBe(true);
    expect(existsSync(tempDir())).toBe(true);
  });
});

describe('reading untrusted files', () => {
  it('a re-packed (deflated) zip of frames still opens; a zip bomb is refused, not inflated', async () => {
    const ctx = makeContext({});
    const file = await exportFrames(ctx, slidingSquare(3, 16, 16), exportParams.parse({ format: 'png', filename: 'f' }));
    const repacked = writeZip(readZip(readFileSync(file.path)).map((e) => ({ ...e, compress: true })));
    const back = await readWorkflowFromMedia(new Uint8Array(repacked));
    expect(canonicalJson(back.workflow)).toBe(canonicalJson(SAMPLE_WORKFLOW));
    const bomb = writeZip([{ name: 'frame_00001.png', data: new Uint8Array(100 * 1024 * 1024), compress: true }]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expect(readWorkflowFromMedia(new Uint8Array(bomb))).rejects.toThrow(/cannot be inflated/);
  });

  it('a PNG whose text is not our workflow, and a damaged GIF, give clear errors', async () => {
    const png = addPngText(Buffer.from(readFileSync(path.resolve(import.meta.dirname, '../../workflows/assets/red-circle.png'))), { Software: 'x' });
    await expect(readWorkflowFromMedia(new Uint8Array(png))).rejects.toThrow(/no workflow/);
    await expect(readWorkflowFromMedia(new TextEncoder().encode('GIF89a\x01\x00\x01\x00\x00\x00\x00;'))).rejects.toThrow(/no workflow/);
  });
});
