/**
 * A minimal protobuf writer and the handful of ONNX messages a converted network needs.
 * Field numbers follow onnx/onnx.proto (IR version 8, opset 17). We only ever write, so
 * there is no reader; onnxruntime is the reader that checks us.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    const bytes = Uint8Array.from(this.scratch);
    this.chunks.push(bytes);
    this.length += bytes.length;
    this.scratch = [];
  }

  private varint(value: bigint | number): void {
    // int64 fields carry negatives as their 64-bit two's complement, 10 bytes long.
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.scratch.push(Number(v));
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, WIRE_I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(data.length);
    this.flushScratch();
    this.chunks.push(data);
    this.length += data.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, inner: ProtoWriter): this {
    return this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): this {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, data);
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** onnx.TensorProto.DataType values we emit. */
export const DataType = { FLOAT: 1, INT64: 7, FLOAT16: 10 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export interface Tensor {
  name: string;
  dataType: DataTypeCode;
  dims: readonly number[];
  /** Little-endian raw bytes, as TensorProto.raw_data wants them. */
  raw: Uint8Array;
}

export function floatTensor(name: string, dims: readonly number[], values: Float32Array | readonly number[]): Tensor {
  const f = values instanceof Float32Array ? values : Float32Array.from(values);
  checkCount(name, dims, f.length);
  return { name, dataType: DataType.FLOAT, dims, raw: littleEndianBytes(f) };
}

/** Raw IEEE half bits (as read from an ncnn fp16 blob), kept as they are. */
export function halfTensor(name: string, dims: readonly number[], bits: Uint16Array): Tensor {
  checkCount(name, dims, bits.length);
  return { name, dataType: DataType.FLOAT16, dims, raw: littleEndianBytes(bits) };
}

export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): Tensor {
  checkCount(name, dims, values.length);
  return { name, dataType: DataType.INT64, dims, raw: littleEndianBytes(BigInt64Array.from(values.map((v) => BigInt(v)))) };
}

function checkCount(name: string, dims: readonly number[], count: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== count) throw new Error(`tensor ${name}: dims [${dims.join(',')}] want ${expected} values, got ${count}`);
}

function littleEndianBytes(a: Float32Array | Uint16Array | BigInt64Array): Uint8Array {
  // Typed arrays use the host's byte order; raw_data is little-endian by definition.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly number[] };

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, AttributeValue>;
}

/** A tensor dimension: a fixed size or a symbolic (dynamic) name. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: DataTypeCode;
  shape: readonly Dim[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly Tensor[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
}

export interface ModelMeta {
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
  opset?: number;
}

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function encodeAttribute(name: string, a: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      break;
  }
  return w.int(20, ATTRIBUTE_TYPE[a.kind]);
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(name, a));
  return w;
}

function encodeTensor(t: Tensor): ProtoWriter {
  const w = new ProtoWriter().packedInts(1, t.dims).int(2, t.dataType).string(8, t.name);
  return w.bytes(9, t.raw);
}

function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, v.elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

export function encodeModel(graph: OnnxGraph, meta: ModelMeta): Uint8Array {
  const g = new ProtoWriter();
  for (const n of graph.nodes) g.message(1, encodeNode(n));
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, encodeTensor(t));
  for (const i of graph.inputs) g.message(11, encodeValueInfo(i));
  for (const o of graph.outputs) g.message(12, encodeValueInfo(o));

  const m = new ProtoWriter()
    .int(1, 8) // IR version 8 is the one that goes with opset 17
    .string(2, meta.producerName)
    .string(3, meta.producerVersion);
  if (meta.docString) m.string(6, meta.docString);
  m.message(7, g);
  m.message(8, new ProtoWriter().string(1, '').int(2, meta.opset ?? 17));
  for (const [key, value] of Object.entries(meta.metadata ?? {})) {
    m.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return m.finish();
}
