/**
 * DDIM sampling (eta = 0) for v-prediction and eps-prediction models, in plain
 * TypeScript: the decoder ONNX file computes one denoising step's prediction, the loop
 * and the noise live here so that they are seeded by our own RNG and cancellable.
 */

/** Evenly spaced timesteps from `start` down to 0, `steps` of them, strictly decreasing. */
export function ddimTimesteps(trainSteps: number, steps: number, strength = 1): number[] {
  const start = Math.max(1, Math.min(trainSteps, Math.round(trainSteps * strength))) - 1;
  const count = Math.max(1, Math.min(steps, start + 1));
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = count === 1 ? start : Math.round(start - (start * i) / (count - 1));
    if (out.length === 0 || t < out[out.length - 1]!) out.push(t);
  }
  return out;
}

/** Classifier-free guidance: uncond + g (cond - uncond), written into `cond`'s slot of a new array. */
export function guide(cond: Float32Array, uncond: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(cond.length);
  for (let i = 0; i < cond.length; i++) out[i] = uncond[i]! + scale * (cond[i]! - uncond[i]!);
  return out;
}

/** The model's estimate of the clean sample x0 from x_t and its prediction. */
export function predictX0(xt: Float32Array, prediction: Float32Array, alphaBar: number, kind: 'v' | 'eps'): Float32Array {
  const a = Math.sqrt(alphaBar);
  const s = Math.sqrt(1 - alphaBar);
  const x0 = new Float32Array(xt.length);
  if (kind === 'v') for (let i = 0; i < xt.length; i++) x0[i] = a * xt[i]! - s * prediction[i]!;
  else for (let i = 0; i < xt.length; i++) x0[i] = (xt[i]! - s * prediction[i]!) / a;
  return x0;
}

/** One DDIM step from x_t (alphaBar) to x_prev (alphaBarPrev) given the x0 estimate. */
export function ddimStep(xt: Float32Array, x0: Float32Array, alphaBar: number, alphaBarPrev: number): Float32Array {
  const a = Math.sqrt(alphaBar);
  const s = Math.sqrt(1 - alphaBar);
  const aPrev = Math.sqrt(alphaBarPrev);
  const sPrev = Math.sqrt(1 - alphaBarPrev);
  const out = new Float32Array(xt.length);
  for (let i = 0; i < xt.length; i++) {
    const eps = (xt[i]! - a * x0[i]!) / s;
    out[i] = aPrev * x0[i]! + sPrev * eps;
  }
  return out;
}

/** Forward-noises a clean sample to timestep t: sqrt(a) x0 + sqrt(1 - a) noise. */
export function noiseTo(x0: Float32Array, noise: Float32Array, alphaBar: number): Float32Array {
  const a = Math.sqrt(alphaBar);
  const s = Math.sqrt(1 - alphaBar);
  const out = new Float32Array(x0.length);
  for (let i = 0; i < x0.length; i++) out[i] = a * x0[i]! + s * noise[i]!;
  return out;
}
