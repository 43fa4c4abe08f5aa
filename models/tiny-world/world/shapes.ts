/**
 * The six shapes as polygons in a unit box: centred on (0, 0), y pointing down, the
 * larger of width and height equal to 1. A clip's "extent" scales them, so the extent is
 * the object's bounding-box size whatever its shape. Shared by the renderer and the
 * analyzer (which renders candidate shapes to compare masks).
 */
import type { Shape } from './vocabulary';

export type Point = readonly [number, number];
export type Polygon = readonly Point[];

function normalise(points: Point[]): Polygon {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = 1 / Math.max(maxX - minX, maxY - minY);
  const [midX, midY] = [(minX + maxX) / 2, (minY + maxY) / 2];
  return points.map(([x, y]) => [(x - midX) * scale, (y - midY) * scale] as const);
}

function regularPoints(count: number, radiusAt: (index: number) => number, startAngle: number): Point[] {
  return Array.from({ length: count }, (_, index) => {
    const angle = startAngle + (index * 2 * Math.PI) / count;
    return [radiusAt(index) * Math.cos(angle), radiusAt(index) * Math.sin(angle)] as const;
  });
}

/** Inner radius of the star: fatter than a geometric pentagram (0.38) so small stars keep their points visible. */
const STAR_INNER_RATIO = 0.45;
/** A rhombus taller than wide, so it never reads as a square turned 45 degrees. */
const DIAMOND_WIDTH = 0.7;

export const SHAPE_POLYGONS: Record<Shape, Polygon> = {
  circle: normalise(regularPoints(48, () => 1, 0)),
  square: normalise([[-1, -1], [1, -1], [1, 1], [-1, 1]]),
  triangle: normalise([[0, -Math.sqrt(3) / 2], [1, Math.sqrt(3) / 2], [-1, Math.sqrt(3) / 2]]),
  star: normalise(regularPoints(10, (index) => (index % 2 === 0 ? 1 : STAR_INNER_RATIO), -Math.PI / 2)),
  // The classic heart curve; sin/cos of t traced clockwise, y flipped so the point is at the bottom.
  heart: normalise(
    Array.from({ length: 64 }, (_, index) => {
      const t = (index / 64) * 2 * Math.PI;
      const x = 16 * Math.sin(t) ** 3;
      const y = 13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t);
      return [x, -y] as const;
    }),
  ),
  diamond: normalise([[0, -1], [DIAMOND_WIDTH, 0], [0, 1], [-DIAMOND_WIDTH, 0]]),
};

/** Area and centroid (shoelace formula) of each unit shape: the analyzer fits shapes by area and centroid. */
export function polygonAreaAndCentroid(polygon: Polygon): { area: number; centroidX: number; centroidY: number } {
  let twiceArea = 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < polygon.length; i++) {
    const [ax, ay] = polygon[i]!;
    const [bx, by] = polygon[(i + 1) % polygon.length]!;
    const cross = ax * by - bx * ay;
    twiceArea += cross;
    sumX += (ax + bx) * cross;
    sumY += (ay + by) * cross;
  }
  return { area: Math.abs(twiceArea) / 2, centroidX: sumX / (3 * twiceArea), centroidY: sumY / (3 * twiceArea) };
}

export const SHAPE_GEOMETRY: Record<Shape, { area: number; centroidX: number; centroidY: number }> = Object.fromEntries(
  Object.entries(SHAPE_POLYGONS).map(([shape, polygon]) => [shape, polygonAreaAndCentroid(polygon)]),
) as Record<Shape, { area: number; centroidX: number; centroidY: number }>;
