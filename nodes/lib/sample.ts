/**
 * The DDIM sampling loop over a pack's diffusion decoder, shared by the keyframes node
 * (keyframes from noise, or from a noised clip) and the refine node (keyframes redrawn at a
 * higher resolution from their own noised latents). Classifier-free guidance runs the
 * conditional rows and the unconditional rows (all-padding tokens, zero embedding) as one batch.
 */
import { z } from 'zod';
import type { ExecContext } from '../core/definition';
import { ddimStep, guide, predictX0 } from './ddim';
import { firstFloatOutput, type videoPack } from './pack';

/** The params every node that samples the decoder shows the same way. */
export const guidanceParam = z
  .number()
  .min(0)
  .max(20)
  .default(3)
  .describe('Classifier-free guidance scale (1 = none)')
  .meta({ widget: 'slider', label: 'Guidance', step: 0.1 });
export const seedParam = z.number().int().min(0).max(4294967295).default(0).describe('Noise seed').meta({ widget: 'seed', label: 'Seed' });

export interface DenoiseRequest {
  pack: string;
  /** the pack's diffusion model to run: its `decoder` unless a node has a model for its job (refine: `refiner`) */
  role?: string;
  schedule: ReturnType<typeof videoPack>['schedule'];
  /** x at timesteps[0], `rows` samples [C, F, h, w] one after another */
  x: Float32Array;
  rows: number;
  timesteps: readonly number[];
  guidance: number;
  /** the conditional rows' token ids (padding when the decoder must not read text) */
  tokens: readonly number[];
  tokensFilled: boolean;
  /** one image embedding for every conditional row (zeros: none) */
  embedding: Float32Array;
  /** [C, F, h, w] known latents and [1, F, h, w] mask, the same for every row */
  known: Float32Array;
  mask: Float32Array;
  dims: { C: number; F: number; h: number; w: number };
  /** after every step but the last, with the current x0 estimate of all rows */
  onStep?: (step: number, x0: Float32Array) => Promise<void>;
}

/** Runs the loop; returns the final x0 of all rows. */
export async function denoise(ctx: ExecContext, r: DenoiseRequest): Promise<Float32Array> {
  const { C, F, h, w } = r.dims;
  const size = C * F * h * w;
  const useGuidance = r.guidance !== 1;
  const batch = (useGuidance ? 2 : 1) * r.rows;
  const T = r.tokens.length;
  // the unconditional rows (guidance) stay all padding and zero embedding
  const tokens = tokenRows(r.tokens, batch, r.tokensFilled ? r.rows : 0);
  const E = r.embedding.length;
  const embedding = new Float32Array(batch * E);
  for (let n = 0; n < r.rows; n++) embedding.set(r.embedding, n * E);
  const known = repeat(r.known, batch);
  const mask = repeat(r.mask, batch);
  const latentDims = [batch, C, F, h, w];
  const alphas = r.schedule.alphasCumprod;
  let x = r.x;
  let x0 = x;
  for (let i = 0; i < r.timesteps.length; i++) {
    ctx.throwIfAborted();
    const t = r.timesteps[i]!;
    const out = await ctx.models.run(r.pack, r.role ?? 'decoder', {
      latents: { data: repeat(x, useGuidance ? 2 : 1), dims: latentDims },
      timestep: { data: new Float32Array(batch).fill(t), dims: [batch] },
      tokens: { data: tokens, dims: [batch, T] },
      image_embedding: { data: embedding, dims: [batch, E] },
      known: { data: known, dims: latentDims },
      mask: { data: mask, dims: [batch, 1, F, h, w] },
    });
    const prediction = firstFloatOutput(out, `the ${r.role ?? 'decoder'} of "${r.pack}"`);
    const cond = prediction.subarray(0, r.rows * size);
    const guided = useGuidance ? guide(cond, prediction.subarray(r.rows * size, 2 * r.rows * size), r.guidance) : Float32Array.from(cond);
    x0 = predictX0(x, guided, alphas[t]!, r.schedule.prediction);
    const next = r.timesteps[i + 1];
    x = next === undefined ? x0 : ddimStep(x, x0, alphas[t]!, alphas[next]!);
    ctx.progress(i + 1, r.timesteps.length, `step ${i + 1}/${r.timesteps.length}`);
    if (next !== undefined && r.onStep) await r.onStep(i + 1, x0);
  }
  return x0;
}

/** `rows` rows of token ids (int64), the first `filled` of them holding `ids`, the rest padding (0). */
export function tokenRows(ids: readonly number[], rows: number, filled: number): BigInt64Array {
  const out = new BigInt64Array(rows * ids.length);
  for (let r = 0; r < filled; r++) ids.forEach((id, i) => (out[r * ids.length + i] = BigInt(id)));
  return out;
}

export function repeat(data: Float32Array, times: number): Float32Array {
  if (times === 1) return data;
  const out = new Float32Array(data.length * times);
  for (let i = 0; i < times; i++) out.set(data, i * data.length);
  return out;
}
