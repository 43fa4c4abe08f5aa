/**
 * The converter on small hand-written ncnn models, run through onnxruntime-node, against
 * outputs worked out by hand from ncnn's definitions of each layer.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { floatToHalf, halfToFloat, parseParam } from './ncnn';
import { convertNcnnToOnnx, type ConvertOptions } from './to-onnx';

/** A .param file from layer lines; the header counts are derived. */
function param(...layers: string[]): string {
  const blobs = new Set<string>();
  for (const line of layers) {
    const t = line.trim().split(/\s+/);
    const n = Number(t[2]) + Number(t[3]);
    t.slice(4, 4 + n).forEach((b) => blobs.add(b));
  }
  return `7767517\n${layers.length} ${blobs.size}\n${layers.join('\n')}\n`;
}

/** Writes .bin sections the way ncnn's ModelBin reads them. */
class Bin {
  private parts: Uint8Array[] = [];

  private u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.parts.push(b);
  }

  /** load(w, 0) with the fp16 tag; padded to 4 bytes. */
  fp16(values: number[]): this {
    this.u32(0x01306b47);
    const b = new Uint8Array((values.length * 2 + 3) & ~3);
    const v = new DataView(b.buffer);
    values.forEach((x, i) => v.setUint16(i * 2, floatToHalf(x), true));
    this.parts.push(b);
    return this;
  }

  /** load(w, 0) with a zero tag: plain float32. */
  fp32Tagged(values: number[]): this {
    this.u32(0);
    return this.raw(values);
  }

  /** load(w, 1): float32 without a tag. */
  raw(values: number[]): this {
    this.parts.push(new Uint8Array(Float32Array.from(values).buffer));
    return this;
  }

  tag(value: number): this {
    this.u32(value);
    return this;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

type Feed = { dims: number[]; data: number[] };

async function run(paramText: string, bin: Uint8Array, feeds: Record<string, Feed>, options?: ConvertOptions) {
  const converted = convertNcnnToOnnx(paramText, bin, options);
  const session = await ort.InferenceSession.create(converted.model);
  const inputs = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', Float32Array.from(v.data), v.dims)]));
  const result = await session.run(inputs);
  const outputs = Object.fromEntries(Object.entries(result).map(([k, t]) => [k, { dims: [...t.dims], data: Array.from(t.data as Float32Array) }]));
  await session.release();
  return { converted, outputs };
}

describe('ncnn .param parsing', () => {
  it('reads layers, scalar params and -233xx arrays', () => {
    const p = parseParam(param('Input in 0 1 data', 'Convolution conv 1 1 data out 0=4 1=3 4=1 5=1 6=108 9=2 -23310=1,2.000000e-01'));
    expect(p.layers).toHaveLength(2);
    const conv = p.layers[1]!;
    expect(conv.inputs).toEqual(['data']);
    expect(conv.params.int(0, 0)).toBe(4);
    expect(conv.params.int(11, conv.params.int(1, 0))).toBe(3);
    expect(conv.params.array(10)).toEqual([0.2]);
  });

  it('rejects a file without the magic number', () => {
    expect(() => parseParam('123\n1 1\nInput in 0 1 data\n')).toThrow(/magic/);
  });
});

describe('half floats', () => {
  it('round-trips values exactly representable in fp16, including subnormals', () => {
    for (const v of [0, 1, -2.5, 0.2001953125, 65504, 2 ** -24, -(2 ** -20)]) expect(halfToFloat(floatToHalf(v))).toBe(v);
    expect(halfToFloat(floatToHalf(0.2))).toBeCloseTo(0.2, 3);
  });
});

describe('ncnn -> ONNX', () => {
  it('Convolution 1x1 with fp16 weights, fp32 bias and fused LeakyReLU 0.2 (9=2 -23310=1,0.2)', async () => {
    const text = param('Input in 0 1 data', 'Convolution conv 1 1 data out 0=1 1=1 5=1 6=2 9=2 -23310=1,2.000000e-01');
    const bin = new Bin().fp16([1, -2]).raw([0.5]).bytes();
    // Pixel 0: 1 - 2*1 + 0.5 = -0.5 -> leaky 0.2 -> -0.1; pixel 1: 3 - 2*0.5 + 0.5 = 2.5.
    const feed = { data: { dims: [1, 2, 1, 2], data: [1, 3, 1, 0.5] } };
    for (const halfWeights of ['keep', 'float32'] as const) {
      const { outputs, converted } = await run(text, bin, feed, { halfWeights });
      expect(outputs.out!.dims).toEqual([1, 1, 1, 2]);
      expect(outputs.out!.data[0]).toBeCloseTo(-0.1, 6);
      expect(outputs.out!.data[1]).toBeCloseTo(2.5, 6);
      expect(converted.inputs[0]!.shape).toEqual(['B', 2, 'H', 'W']);
    }
  });

  it('Convolution 3x3 pad 1 with fp32-tagged weights, batch of 2', async () => {
    const text = param('Input in 0 1 data', 'Convolution conv 1 1 data out 0=1 1=3 4=1 5=0 6=9');
    const bin = new Bin().fp32Tagged(Array(9).fill(1)).bytes();
    const img = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const { outputs } = await run(text, bin, { data: { dims: [2, 1, 3, 3], data: [...img, ...img.map((v) => -v)] } });
    // A 3x3 box sum with zeros outside the frame.
    const box = [12, 21, 16, 27, 45, 33, 24, 39, 28];
    expect(outputs.out!.data).toEqual([...box, ...box.map((v) => -v)]);
  });

  it.each(['prelu', 'relu-mix'] as const)('PReLU applies one slope per channel (written as %s)', async (preluForm) => {
    const text = param('Input in 0 1 data', 'PReLU act 1 1 data out 0=2');
    const bin = new Bin().raw([0.1, 0.5]).bytes();
    const { outputs, converted } = await run(text, bin, { data: { dims: [1, 2, 1, 2], data: [-1, 2, -1, 2] } }, { preluForm });
    [-0.1, 2, -0.5, 2].forEach((v, i) => expect(outputs.out!.data[i]).toBeCloseTo(v, 6));
    expect(converted.onnxOps.PRelu ?? 0).toBe(preluForm === 'prelu' ? 1 : 0);
  });

  it('PixelShuffle mode 0 is CRD (PyTorch pixel_shuffle), not ONNX default DCR', async () => {
    const text = param('Input in 0 1 data 2=8', 'PixelShuffle ps 1 1 data out 0=2');
    const { outputs, converted } = await run(text, new Uint8Array(), { data: { dims: [1, 8, 1, 1], data: [1, 2, 3, 4, 5, 6, 7, 8] } });
    // out[c][dy][dx] = in[c*4 + dy*2 + dx]; DCR would give [1,3,5,7, 2,4,6,8].
    expect(outputs.out!.dims).toEqual([1, 2, 2, 2]);
    expect(outputs.out!.data).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(converted.outputs[0]!.shape).toEqual(['B', 2, 'H*2', 'W*2']);
  });

  it('PixelShuffle mode 1 is DCR', async () => {
    const text = param('Input in 0 1 data', 'PixelShuffle ps 1 1 data out 0=2 1=1');
    const { outputs } = await run(text, new Uint8Array(), { data: { dims: [1, 8, 1, 1], data: [1, 2, 3, 4, 5, 6, 7, 8] } });
    expect(outputs.out!.data).toEqual([1, 3, 5, 7, 2, 4, 6, 8]);
  });

  it('Interp nearest floors like ncnn (asymmetric), up and down', async () => {
    const up = param('Input in 0 1 data', 'Interp up 1 1 data out 0=1 1=2.000000e+00 2=2.000000e+00');
    const { outputs } = await run(up, new Uint8Array(), { data: { dims: [1, 1, 2, 2], data: [1, 2, 3, 4] } });
    expect(outputs.out!.data).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    // 8 -> 2 wide: ncnn takes src = (int)(x * 4) = 0, 4; half_pixel rounding would take 1, 5.
    const down = param('Input in 0 1 data', 'Interp down 1 1 data out 0=1 1=1.000000e+00 2=2.500000e-01');
    const r = await run(down, new Uint8Array(), { data: { dims: [1, 1, 1, 8], data: [0, 1, 2, 3, 4, 5, 6, 7] } });
    expect(r.outputs.out!.data).toEqual([0, 4]);
  });

  it('Interp bicubic downscale matches ncnn (A = -0.75, half-pixel, clamped edges)', async () => {
    const text = param('Input in 0 1 data', 'Interp down 1 1 data out 0=3 1=1.000000e+00 2=5.000000e-01');
    const { outputs, converted } = await run(text, new Uint8Array(), { data: { dims: [1, 1, 1, 4], data: [0, 1, 2, 4] } });
    // x=0: fx=0.5, taps -1..2 (clamped), weights -0.09375, 0.59375, 0.59375, -0.09375
    //   -> 0.5*0 + 0.59375*1 - 0.09375*2 = 0.40625
    // x=1: fx=2.5, taps 1..4 (clamped) -> -0.09375*1 + 0.59375*2 + 0.59375*4 - 0.09375*4 = 3.09375
    expect(outputs.out!.dims).toEqual([1, 1, 1, 2]);
    expect(outputs.out!.data[0]).toBeCloseTo(0.40625, 5);
    expect(outputs.out!.data[1]).toBeCloseTo(3.09375, 5);
    expect(converted.scale).toBeUndefined();
  });

  it.each([
    ['bicubic 0.75 after a 4x nearest (the x3 model)', 'Interp up 1 1 data u 0=1 1=4.000000e+00 2=4.000000e+00', 'Interp r 1 1 u out 0=3 1=7.500000e-01 2=7.500000e-01', [5, 7]],
    ['bicubic 0.5 after a 2x pixel shuffle (the x2 model)', 'PixelShuffle up 1 1 data u 0=2', 'Interp r 1 1 u out 0=3 1=5.000000e-01 2=5.000000e-01', [6, 4]],
    ['bilinear 1.5 after a 2x nearest', 'Interp up 1 1 data u 0=1 1=2.000000e+00 2=2.000000e+00', 'Interp r 1 1 u out 0=2 1=1.500000e+00 2=1.500000e+00', [3, 5]],
    ['bicubic 2x on the input', 'Noop', 'Interp r 1 1 data out 0=3 1=2.000000e+00 2=2.000000e+00', [4, 6]],
  ] as const)('polyphase Conv resize equals ORT Resize: %s', async (_name, first, second, [h, w]) => {
    const shuffle = first.startsWith('PixelShuffle');
    const text = param(`Input in 0 1 data 2=${shuffle ? 12 : 3}`, ...(first === 'Noop' ? [] : [first]), second);
    const channels = shuffle ? 12 : 3;
    const data = Array.from({ length: 2 * channels * h * w }, (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5);
    const feed = { data: { dims: [2, channels, h, w], data } };
    const conv = await run(text, new Uint8Array(), feed);
    const resize = await run(text, new Uint8Array(), feed, { resizeAsConv: false });
    expect(conv.converted.onnxOps.Resize ?? 0).toBe(first.startsWith('Interp up') ? 1 : 0);
    expect(resize.converted.onnxOps.Conv ?? 0).toBe(0);
    expect(conv.outputs.out!.dims).toEqual(resize.outputs.out!.dims);
    const diff = conv.outputs.out!.data.reduce((m, v, i) => Math.max(m, Math.abs(v - resize.outputs.out!.data[i]!)), 0);
    expect(diff).toBeLessThan(1e-5);
  });

  it('Interp with a fixed output size', async () => {
    const text = param('Input in 0 1 data', 'Interp fix 1 1 data out 0=1 3=2 4=3');
    const { outputs } = await run(text, new Uint8Array(), { data: { dims: [1, 1, 1, 1], data: [7] } });
    expect(outputs.out!.dims).toEqual([1, 1, 2, 3]);
    expect(outputs.out!.data).toEqual([7, 7, 7, 7, 7, 7]);
  });

  it('BinaryOp between blobs and with a scalar, including the reversed ops', async () => {
    const text = param(
      'Input a 0 1 a',
      'Input b 0 1 b',
      'BinaryOp add 2 1 a b s 0=0',
      'BinaryOp mul 1 1 s m 0=2 1=1 2=3.000000e+00',
      'BinaryOp rsub 1 1 m out 0=7 1=1 2=1.000000e+01',
    );
    const { outputs } = await run(text, new Uint8Array(), { a: { dims: [1, 1, 1, 2], data: [1, 2] }, b: { dims: [1, 1, 1, 2], data: [0.5, -1] } });
    // (1 + 0.5) * 3 = 4.5 -> 10 - 4.5 = 5.5; (2 - 1) * 3 = 3 -> 7
    expect(outputs.out!.data).toEqual([5.5, 7]);
  });

  it('Eltwise sum with coefficients (-23301=2,0.2,1.0) and product by default', async () => {
    const text = param(
      'Input a 0 1 a',
      'Input b 0 1 b',
      'Split sp 1 2 a a0 a1',
      'Eltwise sum 2 1 a0 b s 0=1 -23301=2,2.000000e-01,1.000000e+00',
      'Eltwise prod 2 1 s a1 out',
    );
    const { outputs } = await run(text, new Uint8Array(), { a: { dims: [1, 1, 1, 2], data: [10, 5] }, b: { dims: [1, 1, 1, 2], data: [1, 2] } });
    // (0.2*10 + 1) * 10 = 30; (0.2*5 + 2) * 5 = 15
    expect(outputs.out!.data[0]).toBeCloseTo(30, 5);
    expect(outputs.out!.data[1]).toBeCloseTo(15, 5);
  });

  it('Concat on channels (axis 0) and on width (axis -1, a negative int64 attribute)', async () => {
    const text = param('Input a 0 1 a', 'Split sp 1 3 a a0 a1 a2', 'Concat c 2 1 a0 a1 ch 0=0', 'Convolution id 1 1 a2 a2x 0=2 1=1 6=2', 'Concat w 2 1 ch a2x out 0=-1');
    const bin = new Bin().fp16([1, -1]).bytes();
    const { outputs, converted } = await run(text, bin, { a: { dims: [1, 1, 1, 1], data: [3] } });
    // ch = [3; 3] (2 channels, 1x1); a2x = [3; -3]; concat on width -> [[3, 3], [3, -3]].
    expect(outputs.out!.dims).toEqual([1, 2, 1, 2]);
    expect(outputs.out!.data).toEqual([3, 3, 3, -3]);
    expect(converted.outputs[0]!.shape[1]).toBe(2);
  });

  it('the SRVGG shape: input split into a conv path and a nearest-upsampled skip, renamed and clipped', async () => {
    const text = param(
      'Input in 0 1 data',
      'Split sp 1 2 data d0 d1',
      'Convolution c 1 1 d1 f 0=4 1=1 5=1 6=4',
      'PixelShuffle ps 1 1 f up 0=2',
      'Interp skip 1 1 d0 s 0=1 1=2.000000e+00 2=2.000000e+00',
      'BinaryOp add 2 1 up s output 0=0',
    );
    const bin = new Bin().fp16([1, 2, -1, 0.5]).raw([0, 0, 0.25, 0]).bytes();
    const { outputs, converted } = await run(text, bin, { image: { dims: [1, 1, 1, 1], data: [0.4] } }, {
      inputNames: { data: 'image' },
      outputNames: { output: 'upscaled' },
      clipOutputs: { min: 0, max: 1 },
    });
    // conv: [0.4, 0.8, -0.4+0.25, 0.2]; shuffle to 2x2; + 0.4 each; clip to [0,1].
    expect(outputs.upscaled!.dims).toEqual([1, 1, 2, 2]);
    const got = outputs.upscaled!.data;
    [0.8, 1, 0.25, 0.6].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
    expect(converted.scale).toBe(2);
    expect(converted.inputs.map((i) => i.name)).toEqual(['image']);
    expect(converted.outputs.map((o) => o.name)).toEqual(['upscaled']);
  });

  describe('errors name the layer', () => {
    it('unsupported layer type', () => {
      const text = param('Input in 0 1 data', 'Softmax prob 1 1 data out 0=0');
      expect(() => convertNcnnToOnnx(text, new Uint8Array())).toThrow(/Softmax "prob".*unsupported layer type "Softmax"/);
    });
    it('a param the translation does not understand', () => {
      const text = param('Input in 0 1 data', 'PixelShuffle ps 1 1 data out 0=2 7=1');
      expect(() => convertNcnnToOnnx(text, new Uint8Array())).toThrow(/PixelShuffle "ps".*param 7/);
    });
    it('int8 weights', () => {
      const text = param('Input in 0 1 data', 'Convolution c 1 1 data out 0=1 1=1 6=1');
      expect(() => convertNcnnToOnnx(text, new Bin().tag(0x000d4b38).raw([0]).bytes())).toThrow(/int8/);
    });
    it('weights that do not fit the input', () => {
      const text = param('Input in 0 1 data 2=3', 'Convolution c 1 1 data out 0=1 1=1 6=2');
      expect(() => convertNcnnToOnnx(text, new Bin().fp16([1, 1]).bytes())).toThrow(/Convolution "c".*2 input channels, the input has 3/);
    });
    it('a .bin with bytes left over or missing', () => {
      const text = param('Input in 0 1 data', 'Convolution c 1 1 data out 0=1 1=1 6=2');
      expect(() => convertNcnnToOnnx(text, new Bin().fp16([1, 1]).raw([9]).bytes())).toThrow(/bytes left/);
      expect(() => convertNcnnToOnnx(text, new Bin().tag(0x01306b47).bytes())).toThrow(/needs 4 bytes/);
    });
  });
});
