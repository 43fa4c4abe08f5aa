/**
 * ncnn (.param + .bin) -> ONNX (opset 17). Every ncnn blob here is an image-shaped CHW
 * tensor; ONNX gets a leading batch axis and dynamic batch, height and width. A layer
 * type or a param we do not translate is an error that names the layer, never a silent
 * approximation: a wrong upscaler still "works", so it must fail loudly instead.
 */
import { BinReader, parseParam, weightsToFloat32, type NcnnLayer, type ParamDict, type Weights } from './ncnn';
import {
  DataType,
  encodeModel,
  floatTensor,
  halfTensor,
  int64Tensor,
  type AttributeValue,
  type Dim,
  type OnnxNode,
  type Tensor,
  type ValueInfo,
} from './onnx-proto';

export interface ConvertOptions {
  /** ncnn input blob -> ONNX graph input name (default: the blob name). */
  inputNames?: Record<string, string>;
  /** ncnn output blob -> ONNX graph output name (default: the blob name). */
  outputNames?: Record<string, string>;
  /**
   * 'keep' stores fp16-tagged weights as float16 initializers followed by a Cast, which is
   * lossless (they were half to begin with) and half the size; 'float32' expands them.
   */
  halfWeights?: 'keep' | 'float32';
  /** Clamp every graph output to [min, max] inside the graph. */
  clipOutputs?: { min: number; max: number };
  /**
   * Verification aid: round every blob (and the input) to float16 and back, as ncnn does
   * when it stores blobs in fp16 on a GPU, to tell its rounding apart from real errors.
   */
  emulateHalfBlobs?: boolean;
  /**
   * Bilinear/bicubic Interp by a small rational factor p/q, on a blob whose size is known
   * to be a multiple of q, becomes edge Pad + strided depthwise Conv (+ DepthToSpace):
   * the same arithmetic, several times faster than ORT's CPU Resize. Default true.
   */
  resizeAsConv?: boolean;
  /**
   * 'relu-mix' writes PReLU as s*x + (1-s)*relu(x): ONNX Runtime's CPU PRelu kernel is a
   * slow generic broadcast (a third of animevideov3's time), the Relu/Mul/Add chain is
   * not. Equal up to one float rounding. Default 'prelu'.
   */
  preluForm?: 'prelu' | 'relu-mix';
  /** Channels of an input blob when neither its Input layer nor a convolution reading it says. */
  inputChannels?: Record<string, number>;
  graphName?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

export interface ConvertResult {
  model: Uint8Array;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Spatial factor from the first input to the first output, when it is a constant. */
  scale: number | undefined;
  layerCounts: Record<string, number>;
  /** ONNX nodes emitted, by op type. */
  onnxOps: Record<string, number>;
  weightBytesRead: number;
}

interface BlobInfo {
  channels: number | undefined;
  /** Spatial size relative to the first input; undefined once fixed by an absolute size. */
  scale: number | undefined;
  fixed?: { height: number; width: number };
}

const UNKNOWN: BlobInfo = { channels: undefined, scale: undefined };

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Tensor[] = [];
  private readonly used = new Set<string>();

  constructor(private readonly halfWeights: 'keep' | 'float32') {}

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX value name "${name}" would be defined twice`);
    this.used.add(name);
    return name;
  }

  node(opType: string, name: string, inputs: string[], outputs: string[], attributes?: Record<string, AttributeValue>): void {
    this.nodes.push({ opType, name: this.fresh(name), inputs, outputs, attributes });
  }

  /** A float32 constant. */
  constant(base: string, dims: number[], values: Float32Array | number[]): string {
    const name = this.fresh(base);
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  constantInt64(base: string, dims: number[], values: number[]): string {
    const name = this.fresh(base);
    this.initializers.push(int64Tensor(name, dims, values));
    return name;
  }

  /** A weight tensor as float32 for the graph, stored half when it was half in ncnn and we keep it so. */
  weight(base: string, dims: number[], w: Weights): string {
    if (w.kind === 'float16' && this.halfWeights === 'keep') {
      const stored = this.fresh(`${base}_fp16`);
      this.initializers.push(halfTensor(stored, dims, w.bits));
      const name = this.fresh(base);
      this.node('Cast', `${base}_cast`, [stored], [name], { to: { kind: 'int', value: DataType.FLOAT } });
      return name;
    }
    return this.constant(base, dims, weightsToFloat32(w));
  }
}

interface LayerContext {
  layer: NcnnLayer;
  p: ParamDict;
  g: GraphBuilder;
  bin: BinReader;
  /** ONNX names of the layer's inputs, in order. */
  inputs: string[];
  /** ONNX names its outputs must be written to. */
  outputs: string[];
  infos: BlobInfo[];
  options: ConvertOptions;
}

interface LayerRule {
  /** Param ids this translation understands; any other id is an error. */
  params: number[];
  emit(c: LayerContext): BlobInfo[];
}

function fail(layer: NcnnLayer, message: string): never {
  throw new Error(`ncnn layer ${layer.type} "${layer.name}" (.param line ${layer.line}): ${message}`);
}

function only<T>(layer: NcnnLayer, list: T[], count: number, what: string): T[] {
  if (list.length !== count) fail(layer, `expects ${count} ${what}, has ${list.length}`);
  return list;
}

/** The activation fused into ncnn's Convolution (param 9, with its params in 10). */
function emitActivation(c: LayerContext, input: string, output: string, type: number, args: number[]): void {
  const { g, layer } = c;
  const base = `${layer.name}_act`;
  switch (type) {
    case 1:
      g.node('Relu', base, [input], [output]);
      return;
    case 2:
      g.node('LeakyRelu', base, [input], [output], { alpha: { kind: 'float', value: args[0] ?? 0 } });
      return;
    case 3: {
      const lo = g.constant(`${base}_min`, [], [args[0] ?? Number.NEGATIVE_INFINITY]);
      const hi = g.constant(`${base}_max`, [], [args[1] ?? Number.POSITIVE_INFINITY]);
      g.node('Clip', base, [input, lo, hi], [output]);
      return;
    }
    case 4:
      g.node('Sigmoid', base, [input], [output]);
      return;
    case 5: {
      // Mish only arrived in opset 18: x * tanh(softplus(x)).
      const sp = g.fresh(`${base}_softplus`);
      const th = g.fresh(`${base}_tanh`);
      g.node('Softplus', `${base}_softplus`, [input], [sp]);
      g.node('Tanh', `${base}_tanh`, [sp], [th]);
      g.node('Mul', base, [input, th], [output]);
      return;
    }
    case 6: {
      // ncnn's HardSwish has its own alpha/beta, ONNX's does not: x * hardsigmoid(x).
      const hs = g.fresh(`${base}_hardsigmoid`);
      g.node('HardSigmoid', `${base}_hardsigmoid`, [input], [hs], {
        alpha: { kind: 'float', value: args[0] ?? 1 / 6 },
        beta: { kind: 'float', value: args[1] ?? 0.5 },
      });
      g.node('Mul', base, [input, hs], [output]);
      return;
    }
    default:
      fail(layer, `activation type ${type} is not supported`);
  }
}

function emitConvolution(c: LayerContext, depthwise: boolean): BlobInfo[] {
  const { layer, p, g, bin } = c;
  const [input] = only(layer, c.inputs, 1, 'inputs');
  const [output] = only(layer, c.outputs, 1, 'outputs');
  const inInfo = c.infos[0]!;
  const numOutput = p.int(0, 0);
  const kw = p.int(1, 0);
  const kh = p.int(11, kw);
  const dw = p.int(2, 1);
  const dh = p.int(12, dw);
  const sw = p.int(3, 1);
  const sh = p.int(13, sw);
  const padLeft = p.int(4, 0);
  const padTop = p.int(14, padLeft);
  const padRight = p.int(15, padLeft);
  const padBottom = p.int(16, padTop);
  const biasTerm = p.int(5, 0);
  const weightSize = p.int(6, 0);
  const group = depthwise ? p.int(7, 1) : 1;
  if (p.float(18, 0) !== 0) fail(layer, 'a non-zero pad value (18) is not supported');
  if (p.int(8, 0) !== 0) fail(layer, 'int8 quantized convolution (8=int8_scale_term) is not supported');
  if (p.int(19, 0) !== 0) fail(layer, 'dynamic weights (19) are not supported');
  if (numOutput <= 0 || kw <= 0 || kh <= 0 || weightSize <= 0) fail(layer, 'num_output, kernel and weight_data_size must be positive');
  if (numOutput % group !== 0) fail(layer, `num_output ${numOutput} is not divisible by group ${group}`);
  const perOutput = weightSize / numOutput / kw / kh;
  if (!Number.isInteger(perOutput)) fail(layer, `weight_data_size ${weightSize} does not split into ${numOutput} x ${kh} x ${kw}`);
  const inChannels = perOutput * group;
  if (inInfo.channels !== undefined && inInfo.channels !== inChannels) {
    fail(layer, `weights are for ${inChannels} input channels, the input has ${inInfo.channels}`);
  }

  const weights = bin.loadTagged(weightSize, `${layer.name} weights`);
  const w = g.weight(`${layer.name}_weight`, [numOutput, perOutput, kh, kw], weights);
  const inputs = [input!, w];
  if (biasTerm) inputs.push(g.constant(`${layer.name}_bias`, [numOutput], bin.loadRaw(numOutput, `${layer.name} bias`)));

  const attributes: Record<string, AttributeValue> = {
    kernel_shape: { kind: 'ints', value: [kh, kw] },
    strides: { kind: 'ints', value: [sh, sw] },
    dilations: { kind: 'ints', value: [dh, dw] },
    group: { kind: 'int', value: group },
  };
  // ncnn -233 / -234 mean "same" padding, upper or lower; anything else is explicit.
  if (padLeft === -233 || padLeft === -234) {
    attributes.auto_pad = { kind: 'string', value: padLeft === -233 ? 'SAME_UPPER' : 'SAME_LOWER' };
  } else {
    if ([padLeft, padTop, padRight, padBottom].some((v) => v < 0)) fail(layer, `padding ${padLeft},${padTop},${padRight},${padBottom} is not supported`);
    attributes.pads = { kind: 'ints', value: [padTop, padLeft, padBottom, padRight] };
  }

  const activation = p.int(9, 0);
  const convOut = activation === 0 ? output! : g.fresh(`${layer.name}_preact`);
  g.node('Conv', layer.name, inputs, [convOut], attributes);
  if (activation !== 0) emitActivation(c, convOut, output!, activation, p.array(10) ?? []);

  const strideOk = sh === sw && inInfo.scale !== undefined;
  return [{ channels: numOutput, scale: strideOk ? inInfo.scale! / sh : undefined }];
}

/** Output sizes as ncnn computes them, (int)(size * scale), or a fixed size. */
function resizeSizes(c: LayerContext, input: string, hs: number, ws: number, fixed: { height: number; width: number } | undefined): string {
  const { g, layer } = c;
  const base = `${layer.name}_sizes`;
  const nc = g.fresh(`${base}_nc`);
  g.node('Shape', `${base}_nc`, [input], [nc], { start: { kind: 'int', value: 0 }, end: { kind: 'int', value: 2 } });
  let hw: string;
  if (fixed) {
    hw = g.constantInt64(`${base}_hw`, [2], [fixed.height, fixed.width]);
  } else {
    const shape = g.fresh(`${base}_in_hw`);
    const asFloat = g.fresh(`${base}_in_hw_f`);
    const scaled = g.fresh(`${base}_scaled`);
    const floored = g.fresh(`${base}_floor`);
    hw = g.fresh(`${base}_hw`);
    g.node('Shape', `${base}_in_hw`, [input], [shape], { start: { kind: 'int', value: 2 } });
    g.node('Cast', `${base}_to_float`, [shape], [asFloat], { to: { kind: 'int', value: DataType.FLOAT } });
    g.node('Mul', `${base}_scale`, [asFloat, g.constant(`${base}_factors`, [2], [hs, ws])], [scaled]);
    g.node('Floor', `${base}_floor`, [scaled], [floored]);
    g.node('Cast', `${base}_to_int`, [floored], [hw], { to: { kind: 'int', value: DataType.INT64 } });
  }
  const sizes = g.fresh(base);
  g.node('Concat', base, [nc, hw], [sizes], { axis: { kind: 'int', value: 0 } });
  return sizes;
}

/** ncnn's interpolate_cubic (A = -0.75) for fractional offset t: weights of taps -1, 0, 1, 2. */
function cubicWeights(t: number): number[] {
  const A = -0.75;
  const w0 = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  const w1 = ((A + 2) * t - (A + 3)) * t * t + 1;
  const w2 = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  return [w0, w1, w2, 1 - w0 - w1 - w2];
}

/** p/q with small terms equal to `x`, or undefined. */
function smallRatio(x: number): { p: number; q: number } | undefined {
  for (let q = 1; q <= 8; q++) {
    const p = Math.round(x * q);
    if (p >= 1 && p <= 8 && Math.abs(p / q - x) < 1e-6) return { p, q };
  }
  return undefined;
}

/**
 * Resizing by p/q when the input length is a multiple of q: output phase j of every
 * block of p outputs reads the same taps (relative to its block of q inputs) with the
 * same weights, so the whole resize is a convolution with stride q producing p*p phase
 * channels per image channel, interleaved by DepthToSpace. Edge padding reproduces
 * ncnn's clamping of taps at the borders. Returns false when it does not apply.
 */
function polyphaseResize(c: LayerContext, type: 2 | 3, hs: number, ws: number, fixed: unknown, alignCorner: boolean): boolean {
  const { layer, g } = c;
  const info = c.infos[0]!;
  const ratio = smallRatio(hs);
  const channels = info.channels;
  if (c.options.resizeAsConv === false || fixed || alignCorner || hs !== ws || !ratio || channels === undefined) return false;
  if (info.scale === undefined || !Number.isInteger(info.scale / ratio.q)) return false;
  const { p, q } = ratio;

  const phases = Array.from({ length: p }, (_, j) => {
    const fx = ((j + 0.5) * q) / p - 0.5;
    const sx = Math.floor(fx);
    const t = fx - sx;
    return type === 3 ? { first: sx - 1, weights: cubicWeights(t) } : { first: sx, weights: [1 - t, t] };
  });
  const lo = Math.min(0, ...phases.map((ph) => ph.first));
  const hi = Math.max(0, ...phases.map((ph) => ph.first + ph.weights.length - 1));
  const k = hi - lo + 1;
  const padBegin = -lo;
  const padEnd = Math.max(0, hi - q + 1);
  const taps = phases.map((ph) => {
    const row = new Array<number>(k).fill(0);
    ph.weights.forEach((w, i) => (row[ph.first + i - lo] = w));
    return row;
  });

  const kernel = new Float32Array(channels * p * p * k * k);
  for (let ch = 0; ch < channels; ch++) {
    for (let jy = 0; jy < p; jy++) {
      for (let jx = 0; jx < p; jx++) {
        const o = ((ch * p + jy) * p + jx) * k * k;
        for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) kernel[o + y * k + x] = taps[jy]![y]! * taps[jx]![x]!;
      }
    }
  }

  const [input] = c.inputs;
  const [output] = c.outputs;
  const padded = g.fresh(`${layer.name}_edge`);
  const pads = g.constantInt64(`${layer.name}_pads`, [8], [0, 0, padBegin, padBegin, 0, 0, padEnd, padEnd]);
  g.node('Pad', `${layer.name}_edge`, [input!, pads], [padded], { mode: { kind: 'string', value: 'edge' } });
  const convOut = p === 1 ? output! : g.fresh(`${layer.name}_phases`);
  g.node('Conv', `${layer.name}_polyphase`, [padded, g.constant(`${layer.name}_taps`, [channels * p * p, 1, k, k], kernel)], [convOut], {
    kernel_shape: { kind: 'ints', value: [k, k] },
    strides: { kind: 'ints', value: [q, q] },
    group: { kind: 'int', value: channels },
  });
  if (p > 1) g.node('DepthToSpace', `${layer.name}_interleave`, [convOut], [output!], { blocksize: { kind: 'int', value: p }, mode: { kind: 'string', value: 'CRD' } });
  return true;
}

function emitInterp(c: LayerContext): BlobInfo[] {
  const { layer, p, g } = c;
  const [input] = only(layer, c.inputs, 1, 'inputs');
  const [output] = only(layer, c.outputs, 1, 'outputs');
  const inInfo = c.infos[0]!;
  const type = p.int(0, 0);
  const hs = p.float(1, 1);
  const ws = p.float(2, 1);
  const outH = p.int(3, 0);
  const outW = p.int(4, 0);
  const alignCorner = p.int(6, 0) !== 0;
  if (p.int(5, 0) !== 0) fail(layer, 'dynamic target size (5=1, a second input) is not supported');
  if ((outH > 0) !== (outW > 0)) fail(layer, 'only one of output_height / output_width is set');
  const fixed = outH > 0 ? { height: outH, width: outW } : undefined;
  if (!fixed && (hs <= 0 || ws <= 0)) fail(layer, `scales ${hs} x ${ws} must be positive`);

  const attributes: Record<string, AttributeValue> = {};
  let resizeInputs: string[];
  if (type === 1) {
    // ncnn nearest: src = min((int)(dst * 1/scale), size-1), i.e. asymmetric with floor.
    attributes.mode = { kind: 'string', value: 'nearest' };
    attributes.coordinate_transformation_mode = { kind: 'string', value: 'asymmetric' };
    attributes.nearest_mode = { kind: 'string', value: 'floor' };
    resizeInputs = fixed
      ? [input!, '', '', resizeSizes(c, input!, hs, ws, fixed)]
      : [input!, '', g.constant(`${layer.name}_scales`, [4], [1, 1, hs, ws])];
  } else if ((type === 2 || type === 3) && polyphaseResize(c, type, hs, ws, fixed, alignCorner)) {
    return [{ channels: inInfo.channels, scale: inInfo.scale! * hs }];
  } else if (type === 2 || type === 3) {
    // ncnn bilinear/bicubic map coordinates with in/out sizes (not 1/scale), so feed sizes.
    attributes.mode = { kind: 'string', value: type === 2 ? 'linear' : 'cubic' };
    attributes.coordinate_transformation_mode = { kind: 'string', value: alignCorner ? 'align_corners' : 'half_pixel' };
    if (type === 3) {
      // ncnn's cubic: A = -0.75, edge taps clamped to the border, no antialiasing.
      attributes.cubic_coeff_a = { kind: 'float', value: -0.75 };
      attributes.exclude_outside = { kind: 'int', value: 0 };
    }
    resizeInputs = [input!, '', '', resizeSizes(c, input!, hs, ws, fixed)];
  } else {
    fail(layer, `resize type ${type} is not supported (1 nearest, 2 bilinear, 3 bicubic are)`);
  }
  g.node('Resize', layer.name, resizeInputs, [output!], attributes);
  if (fixed) return [{ channels: inInfo.channels, scale: undefined, fixed }];
  return [{ channels: inInfo.channels, scale: inInfo.scale !== undefined && hs === ws ? inInfo.scale * hs : undefined }];
}

const BINARY_OPS: Record<number, { op: string; swap: boolean }> = {
  0: { op: 'Add', swap: false },
  1: { op: 'Sub', swap: false },
  2: { op: 'Mul', swap: false },
  3: { op: 'Div', swap: false },
  4: { op: 'Max', swap: false },
  5: { op: 'Min', swap: false },
  6: { op: 'Pow', swap: false },
  7: { op: 'Sub', swap: true },
  8: { op: 'Div', swap: true },
  9: { op: 'Pow', swap: true },
};

function sameShape(layer: NcnnLayer, infos: BlobInfo[]): BlobInfo {
  const [first, ...rest] = infos;
  for (const info of rest) {
    if (first!.channels !== undefined && info.channels !== undefined && info.channels !== first!.channels) {
      fail(layer, `inputs have ${first!.channels} and ${info.channels} channels`);
    }
    if (first!.scale !== undefined && info.scale !== undefined && info.scale !== first!.scale) {
      fail(layer, `inputs have different spatial sizes (x${first!.scale} and x${info.scale})`);
    }
  }
  return { ...first!, channels: first!.channels ?? rest.find((i) => i.channels !== undefined)?.channels };
}

const RULES: Record<string, LayerRule> = {
  Convolution: { params: [0, 1, 11, 2, 12, 3, 13, 4, 14, 15, 16, 18, 5, 6, 8, 9, 10, 19], emit: (c) => emitConvolution(c, false) },
  ConvolutionDepthWise: { params: [0, 1, 11, 2, 12, 3, 13, 4, 14, 15, 16, 18, 5, 6, 7, 8, 9, 10, 19], emit: (c) => emitConvolution(c, true) },
  PReLU: {
    params: [0],
    emit(c) {
      const { layer, p, g, bin } = c;
      const [input] = only(layer, c.inputs, 1, 'inputs');
      const [output] = only(layer, c.outputs, 1, 'outputs');
      const n = p.int(0, 0);
      if (n <= 0) fail(layer, 'num_slope must be positive');
      const ch = c.infos[0]!.channels;
      if (n !== 1 && ch !== undefined && n !== ch) fail(layer, `${n} slopes for ${ch} channels`);
      // [C,1,1] broadcasts over [B,C,H,W] the way ncnn applies one slope per channel.
      const dims = n === 1 ? [1] : [n, 1, 1];
      const slopes = bin.loadRaw(n, `${layer.name} slopes`);
      if (c.options.preluForm !== 'relu-mix') {
        g.node('PRelu', layer.name, [input!, g.constant(`${layer.name}_slope`, dims, slopes)], [output!]);
        return [c.infos[0]!];
      }
      const relu = g.fresh(`${layer.name}_relu`);
      const scaled = g.fresh(`${layer.name}_sx`);
      const kept = g.fresh(`${layer.name}_kept`);
      g.node('Relu', `${layer.name}_relu`, [input!], [relu]);
      g.node('Mul', `${layer.name}_sx`, [input!, g.constant(`${layer.name}_slope`, dims, slopes)], [scaled]);
      g.node('Mul', `${layer.name}_kept`, [relu, g.constant(`${layer.name}_one_minus_slope`, dims, slopes.map((v) => 1 - v))], [kept]);
      g.node('Add', layer.name, [scaled, kept], [output!]);
      return [c.infos[0]!];
    },
  },
  ReLU: {
    params: [0],
    emit(c) {
      const [input] = only(c.layer, c.inputs, 1, 'inputs');
      const [output] = only(c.layer, c.outputs, 1, 'outputs');
      const slope = c.p.float(0, 0);
      if (slope === 0) c.g.node('Relu', c.layer.name, [input!], [output!]);
      else c.g.node('LeakyRelu', c.layer.name, [input!], [output!], { alpha: { kind: 'float', value: slope } });
      return [c.infos[0]!];
    },
  },
  Sigmoid: {
    params: [],
    emit(c) {
      const [input] = only(c.layer, c.inputs, 1, 'inputs');
      const [output] = only(c.layer, c.outputs, 1, 'outputs');
      c.g.node('Sigmoid', c.layer.name, [input!], [output!]);
      return [c.infos[0]!];
    },
  },
  PixelShuffle: {
    params: [0, 1],
    emit(c) {
      const { layer, p, g } = c;
      const [input] = only(layer, c.inputs, 1, 'inputs');
      const [output] = only(layer, c.outputs, 1, 'outputs');
      const r = p.int(0, 1);
      const mode = p.int(1, 0);
      if (r < 1) fail(layer, `upscale factor ${r} must be >= 1`);
      if (mode !== 0 && mode !== 1) fail(layer, `mode ${mode} is not supported`);
      const ch = c.infos[0]!.channels;
      if (ch !== undefined && ch % (r * r) !== 0) fail(layer, `${ch} channels do not divide by ${r}x${r}`);
      // ncnn mode 0 is PyTorch's pixel_shuffle: out channel c takes input c*r*r + dy*r + dx (CRD).
      g.node('DepthToSpace', layer.name, [input!], [output!], {
        blocksize: { kind: 'int', value: r },
        mode: { kind: 'string', value: mode === 0 ? 'CRD' : 'DCR' },
      });
      const info = c.infos[0]!;
      return [{ channels: ch === undefined ? undefined : ch / (r * r), scale: info.scale === undefined ? undefined : info.scale * r }];
    },
  },
  Interp: { params: [0, 1, 2, 3, 4, 5, 6], emit: emitInterp },
  BinaryOp: {
    params: [0, 1, 2],
    emit(c) {
      const { layer, p, g } = c;
      const [output] = only(layer, c.outputs, 1, 'outputs');
      const op = BINARY_OPS[p.int(0, 0)];
      if (!op) fail(layer, `op_type ${p.int(0, 0)} is not supported`);
      let a: string;
      let b: string;
      let info: BlobInfo;
      if (p.int(1, 0) !== 0) {
        [a] = only(layer, c.inputs, 1, 'inputs') as [string];
        b = g.constant(`${layer.name}_b`, [], [p.float(2, 0)]);
        info = c.infos[0]!;
      } else {
        [a, b] = only(layer, c.inputs, 2, 'inputs') as [string, string];
        info = sameShape(layer, c.infos);
      }
      g.node(op.op, layer.name, op.swap ? [b, a] : [a, b], [output!]);
      return [info];
    },
  },
  Eltwise: {
    params: [0, 1],
    emit(c) {
      const { layer, p, g } = c;
      const [output] = only(layer, c.outputs, 1, 'outputs');
      if (c.inputs.length < 2) fail(layer, 'needs at least two inputs');
      const op = p.int(0, 0);
      const coeffs = p.array(1);
      let terms = c.inputs;
      if (op === 1 && coeffs && coeffs.length > 0) {
        if (coeffs.length !== c.inputs.length) fail(layer, `${coeffs.length} coefficients for ${c.inputs.length} inputs`);
        terms = c.inputs.map((x, i) => {
          if (coeffs[i] === 1) return x;
          const scaled = g.fresh(`${layer.name}_term${i}`);
          g.node('Mul', `${layer.name}_coeff${i}`, [x, g.constant(`${layer.name}_c${i}`, [], [coeffs[i]!])], [scaled]);
          return scaled;
        });
      }
      const opType = op === 0 ? 'Mul' : op === 1 ? 'Sum' : op === 2 ? 'Max' : undefined;
      if (!opType) fail(layer, `op_type ${op} is not supported`);
      if (opType === 'Mul') {
        let acc = terms[0]!;
        terms.slice(1).forEach((t, i) => {
          const out = i === terms.length - 2 ? output! : g.fresh(`${layer.name}_prod${i}`);
          g.node('Mul', layer.name, [acc, t], [out]);
          acc = out;
        });
      } else {
        g.node(opType, layer.name, terms, [output!]);
      }
      return [sameShape(layer, c.infos)];
    },
  },
  Concat: {
    params: [0],
    emit(c) {
      const { layer, p, g } = c;
      const [output] = only(layer, c.outputs, 1, 'outputs');
      const axis = p.int(0, 0);
      // ncnn's axis counts within C,H,W; ONNX has the batch axis in front.
      const onnxAxis = axis >= 0 ? axis + 1 : axis;
      g.node('Concat', layer.name, c.inputs, [output!], { axis: { kind: 'int', value: onnxAxis } });
      const channelAxis = axis === 0 || axis === -3;
      const channels = channelAxis
        ? c.infos.every((i) => i.channels !== undefined)
          ? c.infos.reduce((s, i) => s + i.channels!, 0)
          : undefined
        : c.infos[0]!.channels;
      return [{ channels, scale: channelAxis ? c.infos[0]!.scale : undefined }];
    },
  },
};

function roundThroughHalf(g: GraphBuilder, input: string, output: string): string {
  const half = g.fresh(`${input}_fp16`);
  g.node('Cast', `${input}_to_fp16`, [input], [half], { to: { kind: 'int', value: DataType.FLOAT16 } });
  g.node('Cast', `${input}_from_fp16`, [half], [output], { to: { kind: 'int', value: DataType.FLOAT } });
  return output;
}

export const SUPPORTED_LAYERS = ['Input', 'Split', ...Object.keys(RULES)].sort();

function dimsFor(info: BlobInfo, base: 'H' | 'W'): Dim {
  if (info.fixed) return base === 'H' ? info.fixed.height : info.fixed.width;
  if (info.scale === 1) return base;
  if (info.scale !== undefined && Number.isInteger(info.scale)) return `${base}*${info.scale}`;
  if (info.scale !== undefined && Number.isInteger(1 / info.scale)) return `${base}/${1 / info.scale}`;
  return `${base}_out`;
}

/** Follows Split aliases to the convolution that first reads `blob`, to learn its channels. */
function inferInputChannels(layers: NcnnLayer[], blob: string): number | undefined {
  const names = new Set([blob]);
  for (const l of layers) {
    if (!l.inputs.some((i) => names.has(i))) continue;
    if (l.type === 'Split') l.outputs.forEach((o) => names.add(o));
    else if (l.type === 'Convolution') {
      const out = l.params.int(0, 0);
      const kw = l.params.int(1, 0);
      const kh = l.params.int(11, kw);
      const per = l.params.int(6, 0) / out / kw / kh;
      if (Number.isInteger(per) && per > 0) return per;
    }
  }
  return undefined;
}

export function convertNcnnToOnnx(paramText: string, binBytes: Uint8Array, options: ConvertOptions = {}): ConvertResult {
  const { layers } = parseParam(paramText);
  const bin = new BinReader(binBytes);
  const g = new GraphBuilder(options.halfWeights ?? 'keep');

  const consumed = new Set(layers.flatMap((l) => l.inputs));
  const produced = new Set<string>();
  for (const l of layers) {
    for (const o of l.outputs) {
      if (produced.has(o)) fail(l, `blob "${o}" is produced twice`);
      produced.add(o);
    }
    const known = l.type === 'Input' || l.type === 'Split' ? undefined : RULES[l.type];
    if (l.type !== 'Input' && l.type !== 'Split' && !known) {
      fail(l, `unsupported layer type "${l.type}"; this converter handles ${SUPPORTED_LAYERS.join(', ')}`);
    }
    const allowed = known?.params ?? (l.type === 'Input' ? [0, 1, 2, 11] : []);
    for (const id of l.params.ids()) if (!allowed.includes(id)) fail(l, `param ${id} is not understood`);
  }
  const outputBlobs = [...produced].filter((b) => !consumed.has(b));
  if (outputBlobs.length === 0) throw new Error('ncnn graph has no output blob (every blob is consumed)');

  const finalOutputName = (blob: string) => options.outputNames?.[blob] ?? blob;
  const aliases = new Map<string, string>();
  const info = new Map<string, BlobInfo>();
  const graphInputs: ValueInfo[] = [];
  const nameOf = (blob: string): string => {
    const alias = aliases.get(blob);
    if (alias !== undefined) return alias;
    if (outputBlobs.includes(blob)) return options.clipOutputs ? `${finalOutputName(blob)}_unclipped` : finalOutputName(blob);
    return blob;
  };

  const layerCounts: Record<string, number> = {};
  for (const layer of layers) {
    layerCounts[layer.type] = (layerCounts[layer.type] ?? 0) + 1;
    for (const i of layer.inputs) if (!info.has(i)) fail(layer, `input blob "${i}" is used before it is produced`);

    if (layer.type === 'Input') {
      const [blob] = only(layer, layer.outputs, 1, 'outputs');
      const name = g.reserve(options.inputNames?.[blob!] ?? blob!);
      aliases.set(blob!, options.emulateHalfBlobs ? roundThroughHalf(g, name, g.fresh(`${name}_half`)) : name);
      const declared = layer.params.int(2, 0);
      const channels = options.inputChannels?.[blob!] ?? (declared > 0 ? declared : inferInputChannels(layers, blob!));
      const first = graphInputs.length === 0;
      info.set(blob!, { channels, scale: first ? 1 : undefined });
      graphInputs.push({ name, elemType: DataType.FLOAT, shape: ['B', channels ?? 'C', first ? 'H' : 'H2', first ? 'W' : 'W2'] });
      continue;
    }
    if (layer.type === 'Split') {
      const [src] = only(layer, layer.inputs, 1, 'inputs');
      for (const o of layer.outputs) {
        aliases.set(o, nameOf(src!));
        info.set(o, info.get(src!)!);
      }
      continue;
    }

    const outputs = layer.outputs.map((o) => g.reserve(nameOf(o)));
    const infos = layer.inputs.map((i) => info.get(i) ?? UNKNOWN);
    const written = options.emulateHalfBlobs ? outputs.map((o) => g.fresh(`${o}_full`)) : outputs;
    const results = RULES[layer.type]!.emit({ layer, p: layer.params, g, bin, inputs: layer.inputs.map(nameOf), outputs: written, infos, options });
    if (options.emulateHalfBlobs) written.forEach((w, i) => roundThroughHalf(g, w, outputs[i]!));
    layer.outputs.forEach((o, i) => info.set(o, results[i] ?? UNKNOWN));
  }
  if (bin.remaining !== 0) {
    throw new Error(`.bin has ${bin.remaining} bytes left after the last layer: the .param and .bin do not belong together`);
  }

  const graphOutputs: ValueInfo[] = outputBlobs.map((blob) => {
    const final = finalOutputName(blob);
    const internal = nameOf(blob);
    if (options.clipOutputs) {
      const lo = g.constant(`${final}_clip_min`, [], [options.clipOutputs.min]);
      const hi = g.constant(`${final}_clip_max`, [], [options.clipOutputs.max]);
      g.node('Clip', `${final}_clip`, [internal, lo, hi], [g.reserve(final)]);
    } else if (internal !== final) {
      g.node('Identity', `${final}_identity`, [internal], [g.reserve(final)]);
    }
    const i = info.get(blob) ?? UNKNOWN;
    return { name: final, elemType: DataType.FLOAT, shape: ['B', i.channels ?? 'C', dimsFor(i, 'H'), dimsFor(i, 'W')] };
  });

  const model = encodeModel(
    { name: options.graphName ?? 'ncnn', nodes: g.nodes, initializers: g.initializers, inputs: graphInputs, outputs: graphOutputs },
    { producerName: 'studio ncnn2onnx', producerVersion: '1', docString: options.docString, metadata: options.metadata },
  );
  return {
    model,
    inputs: graphInputs,
    outputs: graphOutputs,
    scale: info.get(outputBlobs[0]!)?.scale,
    layerCounts,
    onnxOps: g.nodes.reduce<Record<string, number>>((acc, n) => ({ ...acc, [n.opType]: (acc[n.opType] ?? 0) + 1 }), {}),
    weightBytesRead: bin.position,
  };
}
