/**
 * Writes small real ONNX models (with the project's ONNX writer, no Python) and a pack
 * folder around them, so the tests drive ONNX Runtime through the same ModelRuntime the
 * server uses, with or without the trained tiny-world pack.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  DataType,
  encodeModel,
  floatTensor,
  int64Tensor,
  type DataTypeCode,
  type Dim,
  type OnnxGraph,
  type OnnxNode,
  type ValueInfo,
} from '../../models/realesrgan/converter/onnx-proto';

const FLOAT = DataType.FLOAT;
const INT64 = DataType.INT64;

function model(graph: Omit<OnnxGraph, 'initializers'> & { initializers?: OnnxGraph['initializers'] }): Uint8Array {
  return encodeModel({ initializers: [], ...graph }, { producerName: 'studio-tests', producerVersion: '1' });
}

const input = (name: string, shape: Dim[], elemType: DataTypeCode = FLOAT): ValueInfo => ({ name, elemType, shape });

function op(opType: string, inputs: string[], outputs: string[], attributes?: OnnxNode['attributes']): OnnxNode {
  return { opType, name: outputs[0]!, inputs, outputs, attributes };
}

/**
 * An interpolator with the tiny-world interface whose "learning" is a linear blend:
 * frame = frame_a + t (frame_b - frame_a). Its output is known exactly, so a test can
 * check the node's tensor layout, value range and batching through real ONNX Runtime.
 */
export function blendInterpolatorOnnx(): Uint8Array {
  return model({
    name: 'blend_interpolator',
    nodes: [
      op('Sub', ['frame_b', 'frame_a'], ['diff']),
      op('Reshape', ['t', 't_shape'], ['t4']),
      op('Mul', ['diff', 't4'], ['scaled']),
      op('Add', ['frame_a', 'scaled'], ['frame']),
    ],
    initializers: [int64Tensor('t_shape', [4], [-1, 1, 1, 1])],
    inputs: [input('frame_a', ['B', 3, 'H', 'W']), input('frame_b', ['B', 3, 'H', 'W']), input('t', ['B'])],
    outputs: [input('frame', ['B', 3, 'H', 'W'])],
  });
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

export interface SyntheticPackOptions {
  vocabulary: readonly string[];
  maxTokens: number;
  /** The latent decoder also reads the prompt (input text_embedding) and adds its sum to every pixel. */
  latentDecoderReadsText?: boolean;
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
  const normalise = (from: string, to: string) => op('LpNormalization', [from], [to], { axis: { kind: 'int', value: -1 }, p: { kind: 'int', value: 2 } });
  const ints = (value: number[]) => ({ kind: 'ints' as const, value });
  const textEncoder = model({
    name: 'text_encoder',
    nodes: [op('Cast', ['tokens'], ['tokens_f'], { to: { kind: 'int', value: FLOAT } }), op('MatMul', ['tokens_f', 'w'], ['raw']), normalise('raw', 'text_embedding')],
    initializers: [floatTensor('w', [T, E], weights(T * E, 1))],
    inputs: [input('tokens', ['B', T], INT64)],
    outputs: [input('text_embedding', ['B', E])],
  });
  const prior = model({
    name: 'prior',
    nodes: [op('MatMul', ['text_embedding', 'w'], ['raw']), normalise('raw', 'image_embedding')],
    initializers: [floatTensor('w', [E, E], weights(E * E, 2))],
    inputs: [input('text_embedding', ['B', E])],
    outputs: [input('image_embedding', ['B', E])],
  });
  const imageEncoder = model({
    name: 'image_encoder',
    nodes: [
      op('ReduceMean', ['image'], ['mean'], { axes: ints([2, 3]), keepdims: { kind: 'int', value: 0 } }),
      op('MatMul', ['mean', 'w'], ['raw']),
      normalise('raw', 'image_embedding'),
    ],
    initializers: [floatTensor('w', [3, E], weights(3 * E, 3))],
    inputs: [input('image', ['B', 3, 64, 64])],
    outputs: [input('image_embedding', ['B', E])],
  });
  const latentEncoder = model({
    name: 'latent_encoder',
    nodes: [
      op('AveragePool', ['image'], ['pooled'], { kernel_shape: ints([4, 4]), strides: ints([4, 4]) }),
      op('Conv', ['pooled', 'w'], ['latents'], { kernel_shape: ints([1, 1]) }),
    ],
    initializers: [floatTensor('w', [4, 3, 1, 1], [1, 0, 0, 0, 1, 0, 0, 0, 1, 0.3, 0.3, 0.3])],
    inputs: [input('image', ['B', 3, 64, 64])],
    outputs: [input('latents', ['B', 4, 16, 16])],
  });
  // Transposed conv weights [in 4, out 3, 4, 4]: channel c of the latent paints colour c.
  const decoderWeights = new Float32Array(4 * 3 * 16);
  for (let c = 0; c < 3; c++) decoderWeights.fill(1, (c * 3 + c) * 16, (c * 3 + c + 1) * 16);
  const paint = op('ConvTranspose', ['latents', 'w'], [options.latentDecoderReadsText ? 'painted' : 'image'], { kernel_shape: ints([4, 4]), strides: ints([4, 4]) });
  const latentDecoder = model({
    name: 'latent_decoder',
    nodes: options.latentDecoderReadsText
      ? [
          paint,
          op('ReduceSum', ['text_embedding', 'sum_axes'], ['text_sum']),
          op('Reshape', ['text_sum', 'pixel_shape'], ['text_shift']),
          op('Add', ['painted', 'text_shift'], ['image']),
        ]
      : [paint],
    initializers: [
      floatTensor('w', [4, 3, 4, 4], decoderWeights),
      ...(options.latentDecoderReadsText ? [int64Tensor('sum_axes', [1], [1]), int64Tensor('pixel_shape', [4], [-1, 1, 1, 1])] : []),
    ],
    inputs: [input('latents', ['B', 4, 16, 16]), ...(options.latentDecoderReadsText ? [input('text_embedding', ['B', E])] : [])],
    outputs: [input('image', ['B', 3, 64, 64])],
  });
  const latentDecoderInputs: Record<string, (number | string)[]> = {
    latents: ['B', 4, 16, 16],
    ...(options.latentDecoderReadsText ? { text_embedding: ['B', E] } : {}),
  };
  const video = ['B', 4, 8, 16, 16];
  const decoder = model({
    name: 'decoder',
    nodes: [op('Mul', ['latents', 'half'], ['scaled']), op('Mul', ['known', 'mask'], ['given']), op('Sub', ['scaled', 'given'], ['v'])],
    initializers: [floatTensor('half', [1], [0.5])],
    inputs: [
      input('latents', video),
      input('timestep', ['B']),
      input('tokens', ['B', T], INT64),
      input('image_embedding', ['B', E]),
      input('known', video),
      input('mask', ['B', 1, 8, 16, 16]),
    ],
    outputs: [input('v', video)],
  });
  const interp = { frame_a: ['B', 3, 'H', 'W'], frame_b: ['B', 3, 'H', 'W'], t: ['B'] };
  const dir = writeTestPack(modelsDir, pack, {
    'text-encoder': { file: 'text_encoder.onnx', bytes: textEncoder, inputs: { tokens: ['B', T] }, outputs: { text_embedding: ['B', E] } },
    'image-encoder': { file: 'image_encoder.onnx', bytes: imageEncoder, inputs: { image: ['B', 3, 64, 64] }, outputs: { image_embedding: ['B', E] } },
    prior: { file: 'prior.onnx', bytes: prior, inputs: { text_embedding: ['B', E] }, outputs: { image_embedding: ['B', E] } },
    'latent-encoder': { file: 'latent_encoder.onnx', bytes: latentEncoder, inputs: { image: ['B', 3, 64, 64] }, outputs: { latents: ['B', 4, 16, 16] } },
    'latent-decoder': { file: 'latent_decoder.onnx', bytes: latentDecoder, inputs: latentDecoderInputs, outputs: { image: ['B', 3, 64, 64] } },
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
