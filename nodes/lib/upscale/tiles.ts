/**
 * Tile geometry and pixel packing for convolutional upscalers.
 *
 * The frame is treated as if it were mirror-padded by `border` pixels (what
 * realesrgan-ncnn-vulkan does with its prepadding of 10, so our borders match its
 * borders). Each tile's core is a piece of the real frame; its input adds `overlap`
 * pixels of context on each side, clipped to that padded frame. A tile then sees exactly
 * what the whole padded frame would show it, so once `overlap` covers the network's
 * receptive field, tiled output equals untiled output.
 */

export interface Span {
  /** Core, in frame pixels: [start, end). */
  start: number;
  end: number;
  /** Input region with context, in frame pixels (may reach into the mirrored border). */
  from: number;
  to: number;
}

export interface Tile {
  x: Span;
  y: Span;
}

/** Splits [0, length) into near-equal cores no longer than `tile`, each with its context. */
export function planSpans(length: number, tile: number, overlap: number, border: number): Span[] {
  if (!Number.isInteger(length) || length < 1) throw new Error(`length ${length} must be a positive integer`);
  if (!Number.isInteger(tile) || tile < 1) throw new Error(`tile size ${tile} must be a positive integer`);
  const count = Math.ceil(length / tile);
  const spans: Span[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.round((i * length) / count);
    const end = Math.round(((i + 1) * length) / count);
    spans.push({ start, end, from: Math.max(start - overlap, -border), to: Math.min(end + overlap, length + border) });
  }
  return spans;
}

export function planTiles(width: number, height: number, tile: number, overlap: number, border: number): Tile[] {
  const xs = planSpans(width, tile, overlap, border);
  const ys = planSpans(height, tile, overlap, border);
  return ys.flatMap((y) => xs.map((x) => ({ x, y })));
}

/** Mirror index without repeating the edge pixel (numpy 'reflect', ncnn's preproc). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/**
 * Writes one tile's input region of an interleaved RGB frame into `target` (planar CHW
 * float in [0,1]) at element `offset`.
 */
export function packTile(frame: Uint8Array, width: number, height: number, tile: Tile, target: Float32Array, offset: number): void {
  const tw = tile.x.to - tile.x.from;
  const th = tile.y.to - tile.y.from;
  const plane = tw * th;
  const cols = new Int32Array(tw);
  for (let i = 0; i < tw; i++) cols[i] = reflectIndex(tile.x.from + i, width) * 3;
  for (let j = 0; j < th; j++) {
    const row = reflectIndex(tile.y.from + j, height) * width * 3;
    const o = offset + j * tw;
    for (let i = 0; i < tw; i++) {
      const s = row + cols[i]!;
      target[o + i] = frame[s]! / 255;
      target[o + plane + i] = frame[s + 1]! / 255;
      target[o + 2 * plane + i] = frame[s + 2]! / 255;
    }
  }
}

/**
 * Copies the core of an upscaled tile (planar CHW float at `offset`, `scale` times the
 * tile's input region) into an interleaved RGB output frame, rounding like ncnn's
 * postproc: floor(v * 255 + 0.5), clamped.
 */
export function unpackTile(source: Float32Array, offset: number, tile: Tile, scale: number, out: Uint8Array, outWidth: number): void {
  const tw = (tile.x.to - tile.x.from) * scale;
  const plane = tw * (tile.y.to - tile.y.from) * scale;
  const x0 = (tile.x.start - tile.x.from) * scale;
  const y0 = (tile.y.start - tile.y.from) * scale;
  const cw = (tile.x.end - tile.x.start) * scale;
  const ch = (tile.y.end - tile.y.start) * scale;
  const toByte = (v: number) => Math.min(255, Math.max(0, Math.floor(v * 255 + 0.5)));
  for (let j = 0; j < ch; j++) {
    const src = offset + (y0 + j) * tw + x0;
    let dst = ((tile.y.start * scale + j) * outWidth + tile.x.start * scale) * 3;
    for (let i = 0; i < cw; i++, dst += 3) {
      out[dst] = toByte(source[src + i]!);
      out[dst + 1] = toByte(source[src + plane + i]!);
      out[dst + 2] = toByte(source[src + 2 * plane + i]!);
    }
  }
}
