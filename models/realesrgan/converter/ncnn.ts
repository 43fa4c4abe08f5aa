/**
 * Readers for ncnn's two model files: the .param text (layers, blobs, key=value params)
 * and the .bin weight blob, which is read strictly in layer order by each layer's own
 * rules, with no index of its own.
 */

export const PARAM_MAGIC = 7767517;

/** A param value as written: ncnn treats a token with '.', 'e' or 'E' as a float. */
export type ParamValue = { isFloat: boolean; value: number } | { isFloat: boolean; array: number[] };

export class ParamDict {
  constructor(
    readonly layer: string,
    private readonly values: Map<number, ParamValue>,
  ) {}

  has(id: number): boolean {
    return this.values.has(id);
  }

  ids(): number[] {
    return [...this.values.keys()];
  }

  int(id: number, fallback: number): number {
    const v = this.values.get(id);
    if (v === undefined) return fallback;
    if (!('value' in v)) throw new Error(`${this.layer}: param ${id} is an array, a number was expected`);
    return Math.trunc(v.value);
  }

  float(id: number, fallback: number): number {
    const v = this.values.get(id);
    if (v === undefined) return fallback;
    if (!('value' in v)) throw new Error(`${this.layer}: param ${id} is an array, a number was expected`);
    return v.value;
  }

  array(id: number): number[] | undefined {
    const v = this.values.get(id);
    if (v === undefined) return undefined;
    if (!('array' in v)) throw new Error(`${this.layer}: param ${id} is a number, an array was expected`);
    return v.array;
  }
}

export interface NcnnLayer {
  type: string;
  name: string;
  inputs: string[];
  outputs: string[];
  params: ParamDict;
  /** 1-based line in the .param file, for error messages. */
  line: number;
}

export interface NcnnParam {
  layers: NcnnLayer[];
  blobCount: number;
}

function parseNumber(token: string, where: string): ParamValue & { value: number } {
  const isFloat = /[.eE]/.test(token);
  const value = isFloat ? Number.parseFloat(token) : Number.parseInt(token, 10);
  if (!Number.isFinite(value) || !/^[-+0-9.eE]+$/.test(token)) throw new Error(`${where}: bad number "${token}"`);
  return { isFloat, value };
}

export function parseParam(text: string): NcnnParam {
  const lines = text.split(/\r?\n/);
  const tokens = (i: number) => (lines[i] ?? '').trim().split(/\s+/).filter((t) => t.length > 0);
  const magic = Number(tokens(0)[0]);
  if (magic !== PARAM_MAGIC) throw new Error(`not an ncnn .param file: magic ${tokens(0)[0] ?? '(empty)'} != ${PARAM_MAGIC}`);
  const header = tokens(1);
  const layerCount = Number(header[0]);
  const blobCount = Number(header[1]);
  if (!Number.isInteger(layerCount) || !Number.isInteger(blobCount) || layerCount < 1) {
    throw new Error(`ncnn .param line 2: expected "layer_count blob_count", got "${lines[1] ?? ''}"`);
  }

  const layers: NcnnLayer[] = [];
  for (let i = 2; i < lines.length && layers.length < layerCount; i++) {
    const t = tokens(i);
    if (t.length === 0) continue;
    const where = `.param line ${i + 1}`;
    const [type, name, nIn, nOut] = t;
    const inCount = Number(nIn);
    const outCount = Number(nOut);
    if (!type || !name || !Number.isInteger(inCount) || !Number.isInteger(outCount)) {
      throw new Error(`${where}: expected "type name inputs outputs ...", got "${lines[i]}"`);
    }
    const inputs = t.slice(4, 4 + inCount);
    const outputs = t.slice(4 + inCount, 4 + inCount + outCount);
    if (inputs.length !== inCount || outputs.length !== outCount) throw new Error(`${where}: too few blob names`);

    const values = new Map<number, ParamValue>();
    for (const kv of t.slice(4 + inCount + outCount)) {
      const eq = kv.indexOf('=');
      if (eq < 1) throw new Error(`${where} (${type} ${name}): bad param "${kv}"`);
      const key = Number.parseInt(kv.slice(0, eq), 10);
      const raw = kv.slice(eq + 1);
      if (key <= -23300) {
        // Arrays are written with the key -23300 - id and the value "count,v0,v1,...".
        const [countToken, ...items] = raw.split(',');
        const count = Number.parseInt(countToken ?? '', 10);
        if (items.length !== count) throw new Error(`${where} (${type} ${name}): array ${kv} announces ${count} items, has ${items.length}`);
        const parsed = items.map((s) => parseNumber(s, where));
        values.set(-key - 23300, { isFloat: parsed.some((p) => p.isFloat), array: parsed.map((p) => p.value) });
      } else {
        values.set(key, parseNumber(raw, `${where} (${type} ${name})`));
      }
    }
    layers.push({ type, name, inputs, outputs, params: new ParamDict(`${type} ${name}`, values), line: i + 1 });
  }
  if (layers.length !== layerCount) throw new Error(`ncnn .param announces ${layerCount} layers, found ${layers.length}`);
  return { layers, blobCount };
}

/** Weights as stored: half floats stay as their raw bits so a converter can keep them exact. */
export type Weights = { kind: 'float32'; data: Float32Array } | { kind: 'float16'; bits: Uint16Array };

const TAG_FP16 = 0x01306b47;
const TAG_INT8 = 0x000d4b38;
const TAG_FP32_SCALED = 0x0002c056;

export class BinReader {
  private offset = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly label = '.bin',
  ) {}

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private take(n: number, what: string): Uint8Array {
    if (this.offset + n > this.bytes.length) {
      throw new Error(`${this.label}: ${what} needs ${n} bytes at offset ${this.offset}, only ${this.remaining} left`);
    }
    // Copy (a Node Buffer's slice() would be a view into a shared pool): the typed
    // arrays made from it need their own aligned buffer.
    const out = new Uint8Array(n);
    out.set(this.bytes.subarray(this.offset, this.offset + n));
    this.offset += n;
    return out;
  }

  private floats(count: number, what: string): Float32Array {
    return new Float32Array(this.take(count * 4, what).buffer);
  }

  /** ncnn ModelBin::load(w, 1): plain float32, no tag. */
  loadRaw(count: number, what: string): Float32Array {
    return this.floats(count, what);
  }

  /** ncnn ModelBin::load(w, 0): a 4-byte tag says how the values are stored. */
  loadTagged(count: number, what: string): Weights {
    const head = this.take(4, `${what} tag`);
    const tag = new DataView(head.buffer).getUint32(0, true);
    if (tag === TAG_FP16) {
      const bits = new Uint16Array(this.take(count * 2, what).buffer);
      this.take(align4(count * 2) - count * 2, `${what} padding`);
      return { kind: 'float16', bits };
    }
    if (tag === TAG_INT8) {
      throw new Error(`${this.label}: ${what} is int8-quantized; int8 ncnn models are not supported`);
    }
    if (tag === TAG_FP32_SCALED) return { kind: 'float32', data: this.floats(count, what) };
    if (head[0] === 0 && head[1] === 0 && head[2] === 0 && head[3] === 0) {
      return { kind: 'float32', data: this.floats(count, what) };
    }
    // Any other non-zero flag: a 256-entry float codebook followed by one byte index per value.
    const table = this.floats(256, `${what} codebook`);
    const index = this.take(count, what);
    this.take(align4(count) - count, `${what} padding`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = table[index[i]!]!;
    return { kind: 'float32', data };
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** IEEE 754 half -> float, including subnormals, infinities and NaN. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function weightsToFloat32(w: Weights): Float32Array {
  if (w.kind === 'float32') return w.data;
  const out = new Float32Array(w.bits.length);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(w.bits[i]!);
  return out;
}

/** Float -> IEEE half bits (round to nearest even); used to build test .bin files. */
export function floatToHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa rolls into the exponent, which is the right rounding.
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}
