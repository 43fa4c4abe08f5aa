/**
 * Writes small real ONNX models (protobuf by hand, no Python) and a pack folder around
 * them, so the tests drive ONNX Runtime through the same ModelRuntime the server uses
 * before the trained tiny-world pack exists.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

type Attribute = { ints: number[] } | { int: number } | { float: number };

function attribute(name: string, value: Attribute): Field {
  // AttributeProto: name 1, f 2, i 3, ints 8, type 20 (FLOAT 1, INT 2, INTS 7).
  if ('ints' in value) return message(bytes(1, name), ...value.ints.map((v) => int(8, v)), int(20, 7));
  if ('int' in value) return message(bytes(1, name), int(3, value.int), int(20, 2));
  const f = new Uint8Array(new Float32Array([value.float]).buffer);
  return message(bytes(1, name), Uint8Array.from([...tag(2, 5), ...f]), int(20, 1));
}

function node(op: string, inputs: string[], outputs: string[], name: string, attributes: Record<string, Attribute> = {}): Field {
  return message(
    ...inputs.map((i) => bytes(1, i)),
    ...outputs.map((o) => bytes(2, o)),
    bytes(3, name),
    bytes(4, op),
    ...Object.entries(attributes).map(([k, v]) => bytes(5, attribute(k, v))),
  );
}

function floatInitializer(name: string, dims: number[], values: Float32Array): Field {
  return message(...dims.map((d) => int(1, d)), int(2, FLOAT), bytes(8, name), bytes(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)));
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
      Object.fromEntries(Object.entries(shapes).map(([k, shape]) => [k, { dtype: k === 'tokens' ? 'int64' : 'float32', shape }]));
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

/** Fixed pseudo-random weights (a 32-bit LCG), so the test pack is the same on every run. */
function weights(count: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

function graphModel(name: string, parts: Field[]): Uint8Array {
  return model(message(...parts, bytes(2, name)));
}

export interface SyntheticPackOptions {
  vocabulary: readonly string[];
  maxTokens: number;
}

/**
 * A pack with every tiny-world role and the contract's exact tensor names and shapes,
 * made of a few linear layers: untrained, but real ONNX run by ONNX Runtime, so whole
 * example workflows execute before (or without) the trained pack. Embeddings are
 * L2-normalised; latent encoder = 4x4 average pool + 1x1 conv; latent decoder = 4x4
 * stride-4 transposed conv; the decoder predicts v = 0.5 x_t - mask * known.
 */
export function writeSyntheticVideoPack(modelsDir: string, pack: string, options: SyntheticPackOptions): string {
  const T = options.maxTokens;
  const E = 64;
  const normalise = (input: string, output: string) => node('LpNormalization', [input], [output], `norm_${output}`, { axis: { int: -1 }, p: { int: 2 } });
  const textEncoder = graphModel('text_encoder', [
    bytes(1, node('Cast', ['tokens'], ['tokens_f'], 'cast', { to: { int: FLOAT } })),
    bytes(1, node('MatMul', ['tokens_f', 'w'], ['raw'], 'matmul')),
    bytes(1, normalise('raw', 'text_embedding')),
    bytes(5, floatInitializer('w', [T, E], weights(T * E, 1))),
    bytes(11, valueInfo('tokens', INT64, ['B', T])),
    bytes(12, valueInfo('text_embedding', FLOAT, ['B', E])),
  ]);
  const prior = graphModel('prior', [
    bytes(1, node('MatMul', ['text_embedding', 'w'], ['raw'], 'matmul')),
    bytes(1, normalise('raw', 'image_embedding')),
    bytes(5, floatInitializer('w', [E, E], weights(E * E, 2))),
    bytes(11, valueInfo('text_embedding', FLOAT, ['B', E])),
    bytes(12, valueInfo('image_embedding', FLOAT, ['B', E])),
  ]);
  const imageEncoder = graphModel('image_encoder', [
    bytes(1, node('ReduceMean', ['image'], ['mean'], 'mean', { axes: { ints: [2, 3] }, keepdims: { int: 0 } })),
    bytes(1, node('MatMul', ['mean', 'w'], ['raw'], 'matmul')),
    bytes(1, normalise('raw', 'image_embedding')),
    bytes(5, floatInitializer('w', [3, E], weights(3 * E, 3))),
    bytes(11, valueInfo('image', FLOAT, ['B', 3, 64, 64])),
    bytes(12, valueInfo('image_embedding', FLOAT, ['B', E])),
  ]);
  const latentEncoder = graphModel('latent_encoder', [
    bytes(1, node('AveragePool', ['image'], ['pooled'], 'pool', { kernel_shape: { ints: [4, 4] }, strides: { ints: [4, 4] } })),
    bytes(1, node('Conv', ['pooled', 'w'], ['latents'], 'conv', { kernel_shape: { ints: [1, 1] } })),
    bytes(5, floatInitializer('w', [4, 3, 1, 1], Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.3, 0.3, 0.3]))),
    bytes(11, valueInfo('image', FLOAT, ['B', 3, 64, 64])),
    bytes(12, valueInfo('latents', FLOAT, ['B', 4, 16, 16])),
  ]);
  // Transposed conv weights [in 4, out 3, 4, 4]: channel c of the latent paints colour c.
  const decoderWeights = new Float32Array(4 * 3 * 16);
  for (let c = 0; c < 3; c++) decoderWeights.fill(1, (c * 3 + c) * 16, (c * 3 + c + 1) * 16);
  const latentDecoder = graphModel('latent_decoder', [
    bytes(1, node('ConvTranspose', ['latents', 'w'], ['image'], 'up', { kernel_shape: { ints: [4, 4] }, strides: { ints: [4, 4] } })),
    bytes(5, floatInitializer('w', [4, 3, 4, 4], decoderWeights)),
    bytes(11, valueInfo('latents', FLOAT, ['B', 4, 16, 16])),
    bytes(12, valueInfo('image', FLOAT, ['B', 3, 64, 64])),
  ]);
  const video = ['B', 4, 8, 16, 16];
  const decoder = graphModel('decoder', [
    bytes(1, node('Mul', ['latents', 'half'], ['scaled'], 'scale')),
    bytes(1, node('Mul', ['known', 'mask'], ['given'], 'given')),
    bytes(1, node('Sub', ['scaled', 'given'], ['v'], 'v')),
    bytes(5, floatInitializer('half', [1], Float32Array.from([0.5]))),
    bytes(11, valueInfo('latents', FLOAT, video)),
    bytes(11, valueInfo('timestep', FLOAT, ['B'])),
    bytes(11, valueInfo('tokens', INT64, ['B', T])),
    bytes(11, valueInfo('image_embedding', FLOAT, ['B', E])),
    bytes(11, valueInfo('known', FLOAT, video)),
    bytes(11, valueInfo('mask', FLOAT, ['B', 1, 8, 16, 16])),
    bytes(12, valueInfo('v', FLOAT, video)),
  ]);
  const interp = { frame_a: ['B', 3, 'H', 'W'], frame_b: ['B', 3, 'H', 'W'], t: ['B'] };
  const dir = writeTestPack(modelsDir, pack, {
    'text-encoder': { file: 'text_encoder.onnx', bytes: textEncoder, inputs: { tokens: ['B', T] }, outputs: { text_embedding: ['B', E] } },
    'image-encoder': { file: 'image_encoder.onnx', bytes: imageEncoder, inputs: { image: ['B', 3, 64, 64] }, outputs: { image_embedding: ['B', E] } },
    prior: { file: 'prior.onnx', bytes: prior, inputs: { text_embedding: ['B', E] }, outputs: { image_embedding: ['B', E] } },
    'latent-encoder': { file: 'latent_encoder.onnx', bytes: latentEncoder, inputs: { image: ['B', 3, 64, 64] }, outputs: { latents: ['B', 4, 16, 16] } },
    'latent-decoder': { file: 'latent_decoder.onnx', bytes: latentDecoder, inputs: { latents: ['B', 4, 16, 16] }, outputs: { image: ['B', 3, 64, 64] } },
    decoder: { file: 'decoder.onnx', bytes: decoder, inputs: { latents: video }, outputs: { v: video } },
    interpolator: { file: 'interpolator.onnx', bytes: blendInterpolatorOnnx(), inputs: interp, outputs: { frame: ['B', 3, 'H', 'W'] } },
  });
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
  // A linear beta schedule (DDPM's), as the trained pack ships its own.
  const alphasCumprod: number[] = [];
  let product = 1;
  for (let i = 0; i < 1000; i++) {
    product *= 1 - (1e-4 + ((0.02 - 1e-4) * i) / 999);
    alphasCumprod.push(product);
  }
  Object.assign(manifest, {
    tokenizer: { vocabulary: options.vocabulary, maxTokens: T },
    embeddingSize: E,
    video: { width: 64, height: 64, keyframes: 8, latentChannels: 4, latentWidth: 16, latentHeight: 16, fps: 8, interpolation: 4 },
    schedule: { trainSteps: 1000, prediction: 'v', alphasCumprod },
  });
  writeFileSync(manifestFile, JSON.stringify(manifest));
  return dir;
}
