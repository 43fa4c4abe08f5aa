/** The tiny test API the browser specs use (vitest does not drive a browser here). */
import type { Browser } from 'playwright-core';
import type { RunningServer } from './harness';

export interface SpecContext {
  browser: Browser;
  server: RunningServer;
  /** One named check; later steps of the spec are skipped once one fails. */
  step(name: string, fn: () => Promise<void>): Promise<void>;
}

export interface Spec {
  name: string;
  /** Generous: the real models run on a CPU. */
  timeoutMs?: number;
  run(t: SpecContext): Promise<void>;
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
