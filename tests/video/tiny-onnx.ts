/**
 * Writes small real ONNX models (protobuf by hand, no Python) and a pack folder around
 * them, so the tests drive ONNX Runtime through the same ModelRuntime the server uses
 * before the trained tiny-world pack exists.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

type Field = Uint8Array;

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function tag(field: number, wire: number): number[] {
  return varint((field << 3) | wire);
}

function int(field: number, value: number | bigint): Field {
  return Uint8Array.from([...tag(field, 0), ...varint(value)]);
}

function bytes(field: number, data: Uint8Array | string): Field {
  const body = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return Uint8Array.from([...tag(field, 2), ...varint(body.length), ...body]);
}

function message(...fields: Field[]): Uint8Array {
  const total = fields.reduce((s, f) => s + f.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of fields) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

const FLOAT = 1;
const INT64 = 7;

function valueInfo(name: string, elemType: number, dims: (number | string)[]): Field {
  const shape = message(...dims.map((d) => bytes(1, typeof d === 'number' ? int(1, d) : bytes(2, d))));
  const tensorType = message(int(1, elemType), bytes(2, shape));
  return message(bytes(1, name), bytes(2, message(bytes(1, tensorType))));
}

function node(op: string, inputs: string[], outputs: string[], name: string): Field {
  return message(...inputs.map((i) => bytes(1, i)), ...outputs.map((o) => bytes(2, o)), bytes(3, name), bytes(4, op));
}

function int64Initializer(name: string, values: number[]): Field {
  const raw = new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer);
  return message(int(1, values.length), int(2, INT64), bytes(8, name), bytes(9, raw));
}

function model(graph: Uint8Array): Uint8Array {
  return message(int(1, 8), bytes(2, 'studio-tests'), bytes(7, graph), bytes(8, message(bytes(1, ''), int(2, 17))));
}

/**
 * An interpolator with the tiny-world interface whose "learning" is a linear blend:
 * frame = frame_a + t (frame_b - frame_a). Its output is known exactly, so a test can
 * check the node's tensor layout, value range and batching through real ONNX Runtime.
 */
export function blendInterpolatorOnnx(): Uint8Array {
  const graph = message(
    bytes(1, node('Sub', ['frame_b', 'frame_a'], ['diff'], 'sub')),
    bytes(1, node('Reshape', ['t', 't_shape'], ['t4'], 'reshape')),
    bytes(1, node('Mul', ['diff', 't4'], ['scaled'], 'mul')),
    bytes(1, node('Add', ['frame_a', 'scaled'], ['frame'], 'add')),
    bytes(2, 'blend_interpolator'),
    bytes(5, int64Initializer('t_shape', [-1, 1, 1, 1])),
    bytes(11, valueInfo('frame_a', FLOAT, ['B', 3, 'H', 'W'])),
    bytes(11, valueInfo('frame_b', FLOAT, ['B', 3, 'H', 'W'])),
    bytes(11, valueInfo('t', FLOAT, ['B'])),
    bytes(12, valueInfo('frame', FLOAT, ['B', 3, 'H', 'W'])),
  );
  return model(graph);
}

/** A pack folder `<modelsDir>/<pack>/` with a valid manifest listing the given models. */
export function writeTestPack(
  modelsDir: string,
  pack: string,
  models: Record<string, { file: string; bytes: Uint8Array; inputs: Record<string, (number | string)[]>; outputs: Record<string, (number | string)[]> }>,
): string {
  const dir = path.join(modelsDir, pack);
  mkdirSync(dir, { recursive: true });
  const entries: Record<string, unknown> = {};
  for (const [role, m] of Object.entries(models)) {
    writeFileSync(path.join(dir, m.file), m.bytes);
    const spec = (shapes: Record<string, (number | string)[]>) =>
      Object.fromEntries(Object.entries(shapes).map(([k, shape]) => [k, { dtype: 'float32', shape }]));
    entries[role] = {
      file: m.file,
      sha256: createHash('sha256').update(m.bytes).digest('hex'),
      bytes: m.bytes.byteLength,
      inputs: spec(m.inputs),
      outputs: spec(m.outputs),
    };
  }
  const manifest = { format: 'studio-model-pack', version: 1, name: pack, description: 'test pack', licence: 'MIT', source: 'tests', models: entries };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

export function writeBlendInterpolatorPack(modelsDir: string, pack = 'test-interp'): string {
  return writeTestPack(modelsDir, pack, {
    interpolator: {
      file: 'interpolator.onnx',
      bytes: blendInterpolatorOnnx(),
      inputs: { frame_a: ['B', 3, 'H', 'W'], frame_b: ['B', 3, 'H', 'W'], t: ['B'] },
      outputs: { frame: ['B', 3, 'H', 'W'] },
    },
  });
}
