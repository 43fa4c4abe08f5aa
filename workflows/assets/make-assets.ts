/**
 * Regenerates the example workflows' input files from the tiny-world renderer, so the
 * assets are reproducible rather than opaque binaries:
 *   npx tsx workflows/assets/make-assets.ts
 * red-circle.png: the first frame of the clip below (the still image-to-video animates).
 * red-circle-right.mp4: 29 frames, 64 x 64, 8 fps, a red circle moving right on navy
 * (the clip extend-video continues, video-variation varies and upscale-a-video enlarges).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodePng } from '../../nodes/lib/frames';
import { rawInputArgs, runFfmpeg } from '../../nodes/lib/ffmpeg';
import { CLIP_FRAMES, renderClip, WORLD_RESOLUTION } from '../../models/tiny-world/world/render';

const dir = path.dirname(new URL(import.meta.url).pathname);
const size = WORLD_RESOLUTION;
const clip = renderClip({ colour: 'red', background: 'navy', shape: 'circle', size: 'medium', motion: 'right' }, 7);
const frameBytes = size * size * 3;
const frames = Array.from({ length: CLIP_FRAMES }, (_, i) => clip.subarray(i * frameBytes, (i + 1) * frameBytes));

writeFileSync(path.join(dir, 'red-circle.png'), await encodePng(frames[0]!, size, size));
await runFfmpeg(
  [...rawInputArgs(size, size, 8), '-c:v', 'libx264', '-preset', 'veryslow', '-crf', '10', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-map_metadata', '-1', '-fflags', '+bitexact', path.join(dir, 'red-circle-right.mp4')],
  { input: frames, what: 'writing red-circle-right.mp4' },
);
console.log(`wrote ${dir}/red-circle.png and red-circle-right.mp4`);
