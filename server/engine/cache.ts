/**
 * Node output cache: keyed by a hash of everything that determines a node's outputs,
 * evicted least-recently-used when the byte budget is exceeded.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../nodes/core/workflow';
import { valueBytes } from '../../nodes/core/values';

export interface CacheKeyParts {
  type: string;
  version: number;
  params: Record<string, unknown>;
  modelHashes: string[];
  inputHashes: Record<string, string>;
  fingerprint?: string;
}

export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

interface Entry {
  outputs: Record<string, unknown>;
  bytes: number;
}

export class NodeOutputCache {
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get(key: string): Record<string, unknown> | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits++;
    return entry.outputs;
  }

  set(key: string, outputs: Record<string, unknown>): void {
    const bytes = valueBytes(outputs);
    const old = this.entries.get(key);
    if (old) {
      this.totalBytes -= old.bytes;
      this.entries.delete(key);
    }
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { outputs, bytes });
    this.totalBytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.totalBytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.totalBytes -= entry.bytes;
    }
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }
}
