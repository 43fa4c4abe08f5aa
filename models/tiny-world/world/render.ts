/**
 * Deterministic renderer of tiny-world clips. A clip is planned in resolution-free units
 * (fractions of the frame) from its attributes and a seed, then rasterised at any size:
 * the same seed at 64 and 256 pixels shows the same scene, which the eval uses as its
 * ceiling. Anti-aliasing: 4 x 4 samples per pixel, computed only inside the object's
 * bounding box, by scanline spans (no per-sample polygon test), so a 64 x 64 frame costs
 * microseconds.
 *
 * Size convention: small / medium / big are object extents (bounding-box size) of about
 * 1/6, 1/4 and 1/3 of the frame's width. For growing and shrinking the size word is the
 * extent at the middle of the clip (the geometric mean of start and end).
 */
import { createRandom } from './random';
import { SHAPE_POLYGONS, type Polygon } from './shapes';
import { BACKGROUND_COLOURS, OBJECT_COLOURS, type ClipAttributes, type RGB, type Size } from './vocabulary';

export const CLIP_FRAMES = 29;
export const WORLD_RESOLUTION = 64;

export const SIZE_EXTENT: Record<Size, number> = { small: 1 / 6, medium: 1 / 4, big: 1 / 3 };
/** Relative jitter of the extent; keeps the three sizes clearly apart (max small 0.177 < min medium 0.235). */
export const SIZE_JITTER = 0.06;
/** End/start area ratio of growing (start/end of shrinking); the world asks for at least 2. */
export const GROWTH_AREA_RATIO = 2.5;
/** Travel of left/right/up/down, as a fraction of the frame; the world asks for at least 0.35. */
export const TRAVEL_RANGE = [0.45, 0.5] as const;
/** Height of each hop, as a fraction of the frame; the world asks for at least 0.2. */
export const BOUNCE_AMPLITUDE_RANGE = [0.27, 0.32] as const;
/** Full hops (rise and fall) per clip. */
export const BOUNCES_PER_CLIP = 2;
/** Empty border kept around the object's bounding box at every frame. */
const MARGIN = 0.02;

export interface FramePlacement {
  /** Bounding-box centre, fractions of width and height. */
  centreX: number;
  centreY: number;
  /** Bounding-box size, fraction of the width. */
  extent: number;
}

export interface ClipPlan {
  attributes: ClipAttributes;
  frames: FramePlacement[];
}

export function planClip(attributes: ClipAttributes, seed: number, frameCount = CLIP_FRAMES): ClipPlan {
  const random = createRandom(seed);
  const middleExtent = SIZE_EXTENT[attributes.size] * random.uniform(1 - SIZE_JITTER, 1 + SIZE_JITTER);
  const { motion } = attributes;
  const halfGrowth = Math.sqrt(Math.sqrt(GROWTH_AREA_RATIO));
  const extentAt = (t: number): number => {
    if (motion === 'growing') return middleExtent * halfGrowth ** (2 * t - 1);
    if (motion === 'shrinking') return middleExtent * halfGrowth ** (1 - 2 * t);
    return middleExtent;
  };
  const largestExtent = Math.max(extentAt(0), extentAt(1));
  const low = largestExtent / 2 + MARGIN;
  const high = 1 - low;
  let position: (t: number) => [number, number];
  if (motion === 'left' || motion === 'right' || motion === 'up' || motion === 'down') {
    const travel = random.uniform(...TRAVEL_RANGE);
    const start = random.uniform(low, high - travel);
    const across = random.uniform(low, high);
    const forward = motion === 'right' || motion === 'down';
    const along = (t: number): number => (forward ? start + travel * t : high - (start - low) - travel * t);
    position = motion === 'left' || motion === 'right' ? (t) => [along(t), across] : (t) => [across, along(t)];
  } else if (motion === 'bouncing') {
    const amplitude = random.uniform(...BOUNCE_AMPLITUDE_RANGE);
    const x = random.uniform(low, high);
    const floor = random.uniform(low + amplitude, high);
    position = (t) => [x, floor - amplitude * Math.abs(Math.sin(Math.PI * BOUNCES_PER_CLIP * t))];
  } else {
    const fixed: [number, number] = [random.uniform(low, high), random.uniform(low, high)];
    position = () => fixed;
  }
  const frames = Array.from({ length: frameCount }, (_, index) => {
    const t = frameCount === 1 ? 0.5 : index / (frameCount - 1);
    const [centreX, centreY] = position(t);
    return { centreX, centreY, extent: extentAt(t) };
  });
  return { attributes, frames };
}

const SUBSAMPLES = 4;

/**
 * Per-pixel coverage (0..SUBSAMPLES^2) of a polygon given in pixel coordinates, inside
 * the returned box. Even-odd spans per sample row: each span adds to the pixels whose
 * sample centres it contains.
 */
export function polygonCoverage(
  polygon: Polygon,
  width: number,
  height: number,
): { x0: number; y0: number; boxWidth: number; boxHeight: number; coverage: Uint8Array } {
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of polygon) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const x0 = Math.max(0, Math.floor(minX));
  const y0 = Math.max(0, Math.floor(minY));
  const x1 = Math.min(width, Math.ceil(maxX));
  const y1 = Math.min(height, Math.ceil(maxY));
  const boxWidth = Math.max(0, x1 - x0);
  const boxHeight = Math.max(0, y1 - y0);
  const coverage = new Uint8Array(boxWidth * boxHeight);
  const crossings: number[] = [];
  const count = polygon.length;
  for (let row = 0; row < boxHeight; row++) {
    for (let sub = 0; sub < SUBSAMPLES; sub++) {
      const sampleY = y0 + row + (sub + 0.5) / SUBSAMPLES;
      crossings.length = 0;
      for (let i = 0; i < count; i++) {
        const [ax, ay] = polygon[i]!;
        const [bx, by] = polygon[(i + 1) % count]!;
        // Half-open in y so a vertex exactly on the sample row is counted once.
        if (ay <= sampleY !== by <= sampleY) crossings.push(ax + ((sampleY - ay) / (by - ay)) * (bx - ax));
      }
      crossings.sort((a, b) => a - b);
      for (let c = 0; c + 1 < crossings.length; c += 2) {
        // Samples k (global, in 1/SUBSAMPLES pixel steps) with centre (k + 0.5) / SUBSAMPLES in [start, end).
        const first = Math.max(x0 * SUBSAMPLES, Math.ceil(crossings[c]! * SUBSAMPLES - 0.5));
        const last = Math.min(x1 * SUBSAMPLES, Math.ceil(crossings[c + 1]! * SUBSAMPLES - 0.5));
        if (last <= first) continue;
        const base = row * boxWidth - x0;
        const firstPixel = (first / SUBSAMPLES) | 0;
        const lastPixel = ((last - 1) / SUBSAMPLES) | 0;
        if (firstPixel === lastPixel) {
          coverage[base + firstPixel]! += last - first;
          continue;
        }
        // Partial pixels at both ends, whole pixels (all SUBSAMPLES samples) between.
        coverage[base + firstPixel]! += (firstPixel + 1) * SUBSAMPLES - first;
        coverage[base + lastPixel]! += last - lastPixel * SUBSAMPLES;
        for (let pixel = firstPixel + 1; pixel < lastPixel; pixel++) coverage[base + pixel]! += SUBSAMPLES;
      }
    }
  }
  return { x0, y0, boxWidth, boxHeight, coverage };
}

export function placePolygon(polygon: Polygon, placement: FramePlacement, width: number, height: number): Polygon {
  const scale = placement.extent * width;
  const cx = placement.centreX * width;
  const cy = placement.centreY * height;
  return polygon.map(([x, y]) => [cx + x * scale, cy + y * scale] as const);
}

/** Draws one frame into `target` (RGB, row-major) starting at byte `offset`. */
export function drawFrame(
  target: Uint8Array,
  offset: number,
  width: number,
  height: number,
  polygon: Polygon,
  objectColour: RGB,
  backgroundColour: RGB,
): void {
  const [br, bg, bb] = backgroundColour;
  target[offset] = br;
  target[offset + 1] = bg;
  target[offset + 2] = bb;
  // Doubling copies: a 256 x 256 background in 17 memmoves instead of 65536 pixel writes.
  const end = offset + width * height * 3;
  for (let filled = 3; offset + filled < end; filled *= 2) {
    target.copyWithin(offset + filled, offset, Math.min(offset + filled, end - filled));
  }
  const { x0, y0, boxWidth, boxHeight, coverage } = polygonCoverage(polygon, width, height);
  const full = SUBSAMPLES * SUBSAMPLES;
  for (let row = 0; row < boxHeight; row++) {
    for (let column = 0; column < boxWidth; column++) {
      const covered = coverage[row * boxWidth + column]!;
      if (covered === 0) continue;
      const alpha = covered / full;
      const p = offset + ((y0 + row) * width + x0 + column) * 3;
      target[p] = Math.round(br + (objectColour[0] - br) * alpha);
      target[p + 1] = Math.round(bg + (objectColour[1] - bg) * alpha);
      target[p + 2] = Math.round(bb + (objectColour[2] - bb) * alpha);
    }
  }
}

export interface RenderOptions {
  width?: number;
  height?: number;
  frames?: number;
  /** Reuse a buffer (frames x height x width x 3) to avoid allocating per clip. */
  into?: Uint8Array;
}

/** A clip as frames x height x width x RGB uint8, row-major (the dataset's layout). */
export function renderClip(attributes: ClipAttributes, seed: number, options: RenderOptions = {}): Uint8Array {
  const width = options.width ?? WORLD_RESOLUTION;
  const height = options.height ?? width;
  const plan = planClip(attributes, seed, options.frames ?? CLIP_FRAMES);
  const frameBytes = width * height * 3;
  const pixels = options.into ?? new Uint8Array(plan.frames.length * frameBytes);
  if (pixels.length < plan.frames.length * frameBytes) throw new Error('render target too small');
  const objectColour = OBJECT_COLOURS[attributes.colour];
  const backgroundColour = BACKGROUND_COLOURS[attributes.background];
  const shape = SHAPE_POLYGONS[attributes.shape];
  plan.frames.forEach((placement, index) => {
    const polygon = placePolygon(shape, placement, width, height);
    drawFrame(pixels, index * frameBytes, width, height, polygon, objectColour, backgroundColour);
  });
  return pixels;
}
