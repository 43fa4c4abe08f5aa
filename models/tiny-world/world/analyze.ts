/**
 * Decides what a video shows, following TINY_WORLD.md's "What obeys its prompt means":
 * background and object colour (nearest table colour), one object throughout, shape,
 * motion (centroid track and area over time) and size. Works at any resolution; the
 * eval runs it on generated videos, the tests on the renderer's own clips.
 */
import { placePolygon, polygonCoverage, type FramePlacement } from './render';
import { SHAPE_GEOMETRY, SHAPE_POLYGONS } from './shapes';
import {
  BACKGROUND_COLOURS,
  OBJECT_COLOURS,
  SHAPES,
  type Background,
  type ClipAttributes,
  type Colour,
  type Motion,
  type NamedAttributes,
  type RGB,
  type Shape,
  type Size,
} from './vocabulary';

export interface Video {
  width: number;
  height: number;
  /** Each frame RGB, row-major, width * height * 3 bytes. */
  frames: readonly Uint8Array[];
}

/** Views a contiguous frames x height x width x 3 buffer (the dataset layout) as a Video. */
export function videoFromPixels(pixels: Uint8Array, width: number, height = width): Video {
  const frameBytes = width * height * 3;
  if (pixels.length % frameBytes !== 0) throw new Error(`${pixels.length} bytes is not a whole number of ${width}x${height} frames`);
  const frames = Array.from({ length: pixels.length / frameBytes }, (_, index) =>
    pixels.subarray(index * frameBytes, (index + 1) * frameBytes),
  );
  return { width, height, frames };
}

/** Thresholds; fractions of the frame's width (x, extent) or height (y). */
export const ANALYSIS = {
  /** A pixel this far (RGB distance) from the background may belong to an object (first pass). */
  candidateDistance: 40,
  /** A blob smaller than this fraction of the frame is noise, not an object. */
  minimumBlobFraction: 0.0008,
  travel: 0.35,
  /** "Constant direction": the path along the axis at most this times the net travel. */
  maximumPathToTravel: 1.3,
  growthRatio: 2,
  /** Growing/shrinking keep the centre within this distance. */
  growthCentreTolerance: 0.1,
  bounceHeight: 0.2,
  /** Still: every centroid within this of the mean, area within this ratio. */
  stillTolerance: 0.04,
  stillAreaRatio: 1.25,
  /** Flicker: from one frame to the next (of 29) the object may not jump further or change area more. */
  maximumStep: 0.15,
  maximumStepAreaRatio: 1.5,
  /** Extents between small / medium and medium / big (the renderer uses 1/6, 1/4, 1/3 +-6%). */
  smallMediumExtent: 0.205,
  mediumBigExtent: 0.29,
  /** Frames used for the shape vote. */
  shapeFrames: 8,
} as const;

interface Blob {
  area: number;
  centroidX: number;
  centroidY: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  /** Pixel indices of the blob. */
  pixels: Int32Array;
}

function distance(a: RGB, b: RGB): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

function nearest<Name extends string>(table: Record<Name, RGB>, colour: RGB): { name: Name; distance: number } {
  let best: { name: Name; distance: number } | null = null;
  for (const name of Object.keys(table) as Name[]) {
    const d = distance(table[name], colour);
    if (best === null || d < best.distance) best = { name, distance: d };
  }
  return best!;
}

/** Per-channel median through 256-bin histograms (no sorting of millions of values). */
class ColourMedian {
  private readonly histograms = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)] as const;
  private count = 0;
  add(frame: Uint8Array, pixel: number): void {
    this.histograms[0][frame[pixel * 3]!]! += 1;
    this.histograms[1][frame[pixel * 3 + 1]!]! += 1;
    this.histograms[2][frame[pixel * 3 + 2]!]! += 1;
    this.count += 1;
  }
  get size(): number {
    return this.count;
  }
  median(): RGB {
    const channel = (histogram: Uint32Array): number => {
      let seen = 0;
      for (let value = 0; value < 256; value++) {
        seen += histogram[value]!;
        if (seen * 2 >= this.count) return value;
      }
      return 255;
    };
    return [channel(this.histograms[0]), channel(this.histograms[1]), channel(this.histograms[2])];
  }
}

function measureBackground(video: Video): RGB {
  const { width, height } = video;
  const median = new ColourMedian();
  for (const frame of video.frames) {
    for (let x = 0; x < width; x++) {
      median.add(frame, x);
      median.add(frame, (height - 1) * width + x);
    }
    for (let y = 1; y < height - 1; y++) {
      median.add(frame, y * width);
      median.add(frame, y * width + width - 1);
    }
  }
  return median.median();
}

function maskFrame(frame: Uint8Array, background: RGB, threshold: number, mask: Uint8Array): void {
  const squared = threshold * threshold;
  for (let pixel = 0, p = 0; pixel < mask.length; pixel++, p += 3) {
    const dr = frame[p]! - background[0];
    const dg = frame[p + 1]! - background[1];
    const db = frame[p + 2]! - background[2];
    mask[pixel] = dr * dr + dg * dg + db * db > squared ? 1 : 0;
  }
}

/** 8-connected components of a mask, largest first. */
interface BlobScratch {
  labels: Int32Array;
  stack: Int32Array;
  /** Members of all blobs, blob after blob: one buffer instead of a list per blob. */
  order: Int32Array;
}

function createBlobScratch(pixelCount: number): BlobScratch {
  return { labels: new Int32Array(pixelCount), stack: new Int32Array(pixelCount), order: new Int32Array(pixelCount) };
}

function findBlobs(mask: Uint8Array, width: number, height: number, scratch: BlobScratch): Blob[] {
  const { labels, stack, order } = scratch;
  labels.fill(0);
  let visited = 0;
  const blobs: Blob[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const label = blobs.length + 1;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    const first = visited;
    let [sumX, sumY, minX, maxX, minY, maxY] = [0, 0, width, -1, height, -1];
    while (top > 0) {
      const pixel = stack[--top]!;
      order[visited++] = pixel;
      const x = pixel % width;
      const y = (pixel - x) / width;
      sumX += x;
      sumY += y;
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const neighbour = ny * width + nx;
          if (mask[neighbour] === 1 && labels[neighbour] === 0) {
            labels[neighbour] = label;
            stack[top++] = neighbour;
          }
        }
      }
    }
    const area = visited - first;
    // Pixel centres sit at +0.5.
    blobs.push({
      area,
      centroidX: sumX / area + 0.5,
      centroidY: sumY / area + 0.5,
      minX,
      maxX,
      minY,
      maxY,
      pixels: order.slice(first, visited),
    });
  }
  return blobs.sort((a, b) => b.area - a.area);
}

export interface FrameMeasurement {
  significantBlobs: number;
  /** Fractions of width / height; area a fraction of the frame. Absent when the frame shows no object. */
  centroidX?: number;
  centroidY?: number;
  area?: number;
  extent?: number;
  touchesBorder?: boolean;
}

export interface ShapeScore {
  shape: Shape;
  meanIoU: number;
  votes: number;
}

export interface VideoAnalysis {
  width: number;
  height: number;
  frames: FrameMeasurement[];
  background: { measured: RGB; name: Background; distance: number };
  colour: { measured: RGB; name: Colour; distance: number } | null;
  singleObject: { pass: boolean; problems: string[] };
  shape: { name: Shape | null; scores: ShapeScore[] };
  motion: {
    name: Motion | null;
    travelX: number;
    travelY: number;
    pathX: number;
    pathY: number;
    areaRatio: number;
    bounceHeight: number;
    maximumDeviation: number;
  };
  size: { name: Size | null; extent: number };
}

/**
 * The shape's extent (fraction of the width) that has the blob's area. Area survives
 * anti-aliasing and thin tips better than the bounding box does (a star's points fade).
 */
function extentFromArea(blob: Blob, width: number, shape: Shape): number {
  return Math.sqrt(blob.area / SHAPE_GEOMETRY[shape].area) / width;
}

/** IoU of the blob with the shape placed at the blob's centroid with the blob's area. */
function shapeIoU(mask: Uint8Array, width: number, height: number, blob: Blob, shape: Shape): number {
  const geometry = SHAPE_GEOMETRY[shape];
  const extent = extentFromArea(blob, width, shape);
  const placement: FramePlacement = {
    centreX: (blob.centroidX - geometry.centroidX * extent * width) / width,
    centreY: (blob.centroidY - geometry.centroidY * extent * width) / height,
    extent,
  };
  const { x0, y0, boxWidth, boxHeight, coverage } = polygonCoverage(
    placePolygon(SHAPE_POLYGONS[shape], placement, width, height),
    width,
    height,
  );
  let intersection = 0;
  let templateArea = 0;
  for (let row = 0; row < boxHeight; row++) {
    for (let column = 0; column < boxWidth; column++) {
      if (coverage[row * boxWidth + column]! < 8) continue;
      templateArea += 1;
      if (mask[(y0 + row) * width + x0 + column] === 1) intersection += 1;
    }
  }
  return intersection / (templateArea + blob.area - intersection);
}

/** Largest rise followed by a fall back, each measured from the same peak (y grows downwards). */
function riseAndFall(ys: readonly number[]): number {
  let best = 0;
  for (let peak = 0; peak < ys.length; peak++) {
    const before = Math.max(...ys.slice(0, peak + 1));
    const after = Math.max(...ys.slice(peak));
    best = Math.max(best, Math.min(before - ys[peak]!, after - ys[peak]!));
  }
  return best;
}

function classifyMotion(track: readonly FrameMeasurement[]): VideoAnalysis['motion'] {
  const present = track.filter((frame) => frame.centroidX !== undefined);
  const xs = present.map((frame) => frame.centroidX!);
  const ys = present.map((frame) => frame.centroidY!);
  const areas = present.map((frame) => frame.area!);
  if (present.length < 2) {
    return { name: null, travelX: 0, travelY: 0, pathX: 0, pathY: 0, areaRatio: 1, bounceHeight: 0, maximumDeviation: 0 };
  }
  // Ends averaged over two frames so one noisy frame does not decide the travel.
  const endMean = (values: number[], fromEnd: boolean): number => {
    const picked = fromEnd ? values.slice(-2) : values.slice(0, 2);
    return picked.reduce((sum, value) => sum + value, 0) / picked.length;
  };
  const travelX = endMean(xs, true) - endMean(xs, false);
  const travelY = endMean(ys, true) - endMean(ys, false);
  const areaRatio = endMean(areas, true) / endMean(areas, false);
  const path = (values: number[]): number => values.slice(1).reduce((sum, value, index) => sum + Math.abs(value - values[index]!), 0);
  const pathX = path(xs);
  const pathY = path(ys);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
  const maximumDeviation = Math.max(...xs.map((x, i) => Math.hypot(x - meanX, ys[i]! - meanY)));
  const bounceHeight = riseAndFall(ys);
  const areaSpread = Math.max(...areas) / Math.min(...areas);
  const netShift = Math.hypot(travelX, travelY);
  const straight = (travel: number, along: number, across: number): boolean =>
    Math.abs(travel) >= ANALYSIS.travel && along <= ANALYSIS.maximumPathToTravel * Math.abs(travel) && across < Math.abs(travel) / 2;
  let name: Motion | null = null;
  if (maximumDeviation < ANALYSIS.stillTolerance && areaSpread < ANALYSIS.stillAreaRatio) name = 'still';
  else if (areaRatio >= ANALYSIS.growthRatio && netShift < ANALYSIS.growthCentreTolerance) name = 'growing';
  else if (areaRatio <= 1 / ANALYSIS.growthRatio && netShift < ANALYSIS.growthCentreTolerance) name = 'shrinking';
  else if (bounceHeight >= ANALYSIS.bounceHeight && Math.abs(travelX) < ANALYSIS.travel) name = 'bouncing';
  else if (straight(travelX, pathX, Math.abs(travelY))) name = travelX < 0 ? 'left' : 'right';
  else if (straight(travelY, pathY, Math.abs(travelX))) name = travelY < 0 ? 'up' : 'down';
  return { name, travelX, travelY, pathX, pathY, areaRatio, bounceHeight, maximumDeviation };
}

export function analyzeVideo(video: Video): VideoAnalysis {
  const { width, height } = video;
  const pixelCount = width * height;
  const backgroundMeasured = measureBackground(video);
  const mask = new Uint8Array(pixelCount);

  // First pass: a generous mask, only to find the object's colour from its interior.
  // Eight frames spread over the clip are plenty for a median and keep 256-pixel videos fast.
  const interior = new ColourMedian();
  const colourStride = Math.max(1, Math.floor(video.frames.length / 8));
  for (const frame of video.frames.filter((_, index) => index % colourStride === 0)) {
    maskFrame(frame, backgroundMeasured, ANALYSIS.candidateDistance, mask);
    for (let y = 1; y < height - 1; y++) {
      for (let x = 1; x < width - 1; x++) {
        const pixel = y * width + x;
        if (mask[pixel] && mask[pixel - 1] && mask[pixel + 1] && mask[pixel - width] && mask[pixel + width]) interior.add(frame, pixel);
      }
    }
  }
  const objectMeasured = interior.size > 0 ? interior.median() : null;
  // Second pass: half-way between background and object, i.e. at least half covered.
  const threshold = objectMeasured === null ? ANALYSIS.candidateDistance : Math.max(ANALYSIS.candidateDistance / 2, distance(objectMeasured, backgroundMeasured) / 2);
  const minimumArea = Math.max(2, ANALYSIS.minimumBlobFraction * pixelCount);

  const frames: FrameMeasurement[] = [];
  const blobScratch = createBlobScratch(pixelCount);
  const shapeFrameIndices = new Set(
    Array.from({ length: ANALYSIS.shapeFrames }, (_, i) => Math.round((i * (video.frames.length - 1)) / Math.max(1, ANALYSIS.shapeFrames - 1))),
  );
  const iouSums = new Map<Shape, number>(SHAPES.map((shape) => [shape, 0]));
  const votes = new Map<Shape, number>(SHAPES.map((shape) => [shape, 0]));
  let shapeFramesUsed = 0;
  const fallbackShapeFrames: { mask: Uint8Array; blob: Blob }[] = [];
  video.frames.forEach((frame, index) => {
    maskFrame(frame, backgroundMeasured, threshold, mask);
    const blobs = findBlobs(mask, width, height, blobScratch).filter((blob) => blob.area >= minimumArea);
    const main = blobs[0];
    if (main === undefined) {
      frames.push({ significantBlobs: 0 });
      return;
    }
    const touchesBorder = main.minX === 0 || main.minY === 0 || main.maxX === width - 1 || main.maxY === height - 1;
    frames.push({
      significantBlobs: blobs.length,
      centroidX: main.centroidX / width,
      centroidY: main.centroidY / height,
      area: main.area / pixelCount,
      extent: Math.max(main.maxX - main.minX + 1, main.maxY - main.minY + 1) / width,
      touchesBorder,
    });
    if (!shapeFrameIndices.has(index)) return;
    // Only this blob: a speck elsewhere must not lower the shape's score.
    const blobMask = new Uint8Array(pixelCount);
    for (const pixel of main.pixels) blobMask[pixel] = 1;
    if (touchesBorder) {
      fallbackShapeFrames.push({ mask: blobMask, blob: main });
      return;
    }
    scoreShapes(blobMask, main);
  });
  function scoreShapes(blobMask: Uint8Array, blob: Blob): void {
    shapeFramesUsed += 1;
    let best: Shape = SHAPES[0];
    let bestIoU = -1;
    for (const shape of SHAPES) {
      const iou = shapeIoU(blobMask, width, height, blob, shape);
      iouSums.set(shape, iouSums.get(shape)! + iou);
      if (iou > bestIoU) [best, bestIoU] = [shape, iou];
    }
    votes.set(best, votes.get(best)! + 1);
  }
  // Clipped frames only when no frame shows the whole object.
  if (shapeFramesUsed === 0) for (const { mask: blobMask, blob } of fallbackShapeFrames) scoreShapes(blobMask, blob);

  const scores: ShapeScore[] = SHAPES.map((shape) => ({
    shape,
    meanIoU: shapeFramesUsed === 0 ? 0 : iouSums.get(shape)! / shapeFramesUsed,
    votes: votes.get(shape)!,
  })).sort((a, b) => b.votes - a.votes || b.meanIoU - a.meanIoU);

  const problems: string[] = [];
  const empty = frames.filter((frame) => frame.significantBlobs === 0).length;
  const crowded = frames.filter((frame) => frame.significantBlobs > 1).length;
  if (empty > 0) problems.push(`no object in ${empty} frame${empty > 1 ? 's' : ''}`);
  if (crowded > 0) problems.push(`more than one blob in ${crowded} frame${crowded > 1 ? 's' : ''}`);
  // The jump limits are per frame of a 29-frame clip; fewer frames (keyframes only) move further per frame.
  const stepScale = Math.max(1, 28 / Math.max(1, frames.length - 1));
  const maximumStep = ANALYSIS.maximumStep * stepScale;
  const maximumStepAreaRatio = ANALYSIS.maximumStepAreaRatio ** stepScale;
  for (let index = 1; index < frames.length; index++) {
    const [previous, current] = [frames[index - 1]!, frames[index]!];
    if (previous.area === undefined || current.area === undefined) continue;
    const step = Math.hypot(current.centroidX! - previous.centroidX!, current.centroidY! - previous.centroidY!);
    const areaStep = current.area / previous.area;
    if (step > maximumStep || areaStep > maximumStepAreaRatio || areaStep < 1 / maximumStepAreaRatio) {
      problems.push(`the object jumps between frames ${index - 1} and ${index}`);
    }
  }

  // Size from the median area and the recognised shape (see extentFromArea); the median
  // frame of a growing or shrinking clip is its middle, which is what the size word means.
  const areas = frames.flatMap((frame) => (frame.area === undefined ? [] : [frame.area])).sort((a, b) => a - b);
  const medianArea = areas.length === 0 ? 0 : areas[Math.floor(areas.length / 2)]!;
  const shapeName = shapeFramesUsed === 0 ? null : scores[0]!.shape;
  const unitArea = shapeName === null ? 1 : SHAPE_GEOMETRY[shapeName].area;
  const medianExtent = Math.sqrt((medianArea * pixelCount) / unitArea) / width;
  const sizeName: Size | null =
    areas.length === 0 ? null : medianExtent < ANALYSIS.smallMediumExtent ? 'small' : medianExtent < ANALYSIS.mediumBigExtent ? 'medium' : 'big';
  const backgroundNearest = nearest(BACKGROUND_COLOURS, backgroundMeasured);
  const colourNearest = objectMeasured === null ? null : nearest(OBJECT_COLOURS, objectMeasured);

  return {
    width,
    height,
    frames,
    background: { measured: backgroundMeasured, ...backgroundNearest },
    colour: objectMeasured === null || colourNearest === null ? null : { measured: objectMeasured, ...colourNearest },
    singleObject: { pass: problems.length === 0, problems },
    shape: { name: shapeName, scores },
    motion: classifyMotion(frames),
    size: { name: sizeName, extent: medianExtent },
  };
}

export interface AttributeVerdict {
  expected: string;
  measured: string | null;
  pass: boolean;
  detail: string;
}

export interface Judgement {
  pass: boolean;
  /** One entry per attribute the prompt names, plus singleObject (always checked). */
  verdicts: Partial<Record<keyof ClipAttributes, AttributeVerdict>> & { singleObject: AttributeVerdict };
  analysis: VideoAnalysis;
}

const round = (value: number): string => value.toFixed(3);

/** Does the video obey a prompt that names `named`? Unnamed attributes may be anything. */
export function judge(video: Video, named: NamedAttributes): Judgement {
  const analysis = analyzeVideo(video);
  const verdict = (expected: string, measured: string | null, detail: string): AttributeVerdict => ({
    expected,
    measured,
    pass: measured === expected,
    detail,
  });
  const { motion } = analysis;
  const verdicts: Judgement['verdicts'] = {
    singleObject: {
      expected: 'one object throughout',
      measured: analysis.singleObject.pass ? 'one object throughout' : analysis.singleObject.problems.join('; '),
      pass: analysis.singleObject.pass,
      detail: analysis.singleObject.problems.join('; ') || 'exactly one significant blob in every frame, no jumps',
    },
  };
  if (named.background !== undefined) {
    verdicts.background = verdict(named.background, analysis.background.name, `border median rgb(${analysis.background.measured.join(', ')}), ${analysis.background.distance.toFixed(1)} from the table`);
  }
  if (named.colour !== undefined) {
    verdicts.colour = verdict(
      named.colour,
      analysis.colour?.name ?? null,
      analysis.colour === null ? 'no object found' : `object median rgb(${analysis.colour.measured.join(', ')}), ${analysis.colour.distance.toFixed(1)} from the table`,
    );
  }
  if (named.shape !== undefined) {
    verdicts.shape = verdict(named.shape, analysis.shape.name, analysis.shape.scores.map((s) => `${s.shape} ${s.votes} votes IoU ${round(s.meanIoU)}`).join(', '));
  }
  if (named.motion !== undefined) {
    verdicts.motion = verdict(
      named.motion,
      motion.name,
      `travel x ${round(motion.travelX)} y ${round(motion.travelY)}, path x ${round(motion.pathX)} y ${round(motion.pathY)}, ` +
        `area end/start ${round(motion.areaRatio)}, rise-and-fall ${round(motion.bounceHeight)}, largest deviation ${round(motion.maximumDeviation)}`,
    );
  }
  if (named.size !== undefined) {
    verdicts.size = verdict(named.size, analysis.size.name, `extent ${round(analysis.size.extent)} of the width (median area, fitted to the recognised shape)`);
  }
  const pass = Object.values(verdicts).every((entry) => entry.pass);
  return { pass, verdicts, analysis };
}
