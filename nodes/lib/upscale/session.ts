/**
 * Sessions for the realesrgan pack outside the engine (tests, benchmark, verification).
 * The engine's model runtime owns session caching in the app and passes sessions in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PACK_DIR, loadPackManifest, sha256 } from '../../../models/realesrgan/pack';

/**
 * From bench/upscale.ts on the shared 2-core box: 'all' (NCHWc conv layout, fp16->fp32
 * weight casts folded at load) beats 'basic'/'disabled'; 'parallel' execution only adds
 * overhead to a chain of convolutions; without spinning, idle intra-op threads stop
 * burning the CPU that other jobs on a busy machine need (same wall time, ~20% less CPU).
 */
export const RECOMMENDED_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

export async function createUpscaleSession(
  role: string,
  options: ort.InferenceSession.SessionOptions = RECOMMENDED_SESSION_OPTIONS,
  packDir = PACK_DIR,
): Promise<ort.InferenceSession> {
  const manifest = loadPackManifest(packDir);
  const entry = manifest.models[role];
  if (!entry) throw new Error(`realesrgan pack has no model for role "${role}"`);
  const bytes = readFileSync(join(packDir, entry.file));
  const digest = sha256(bytes);
  if (digest !== entry.sha256) throw new Error(`${entry.file}: sha256 ${digest} does not match the manifest (${entry.sha256})`);
  return ort.InferenceSession.create(bytes, options);
}

/** A caching session provider over the pack folder, the shape upscaleFrames() takes. */
export function packSessions(options?: ort.InferenceSession.SessionOptions, packDir = PACK_DIR): (role: string) => Promise<ort.InferenceSession> {
  const cache = new Map<string, Promise<ort.InferenceSession>>();
  return (role) => {
    let s = cache.get(role);
    if (!s) {
      s = createUpscaleSession(role, options, packDir);
      cache.set(role, s);
    }
    return s;
  };
}
