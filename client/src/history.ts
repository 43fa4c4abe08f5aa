/**
 * Undo/redo over whole-graph snapshots. Graphs are small (tens of nodes), so copying
 * beats tracking inverse operations, and a snapshot cannot drift out of sync.
 */
import type { StudioEdge, StudioNode } from './graph';

export interface Snapshot {
  nodes: StudioNode[];
  edges: StudioEdge[];
}

const LIMIT = 200;

/** Only what the document holds: selection, measured sizes and drag state are not history. */
function strip(s: Snapshot): Snapshot {
  return {
    nodes: s.nodes.map((n) => ({ id: n.id, type: n.type, position: { ...n.position }, data: n.data })),
    edges: s.edges.map((e) => ({ ...e, selected: false })),
  };
}

export class History {
  private past: Snapshot[] = [];
  private future: Snapshot[] = [];
  private lastKey: string | null = null;
  private lastAt = 0;

  /**
   * Records the state before a change. Changes with the same coalesce key within a
   * second (typing in one field, nudging one slider) make a single undo step.
   */
  record(before: Snapshot, coalesceKey?: string) {
    const now = Date.now();
    if (coalesceKey && coalesceKey === this.lastKey && now - this.lastAt < 1000) {
      this.lastAt = now;
      return;
    }
    this.lastKey = coalesceKey ?? null;
    this.lastAt = now;
    this.past.push(strip(before));
    if (this.past.length > LIMIT) this.past.shift();
    this.future = [];
  }

  undo(current: Snapshot): Snapshot | null {
    const prev = this.past.pop();
    if (!prev) return null;
    this.future.push(strip(current));
    this.lastKey = null;
    return prev;
  }

  redo(current: Snapshot): Snapshot | null {
    const next = this.future.pop();
    if (!next) return null;
    this.past.push(strip(current));
    this.lastKey = null;
    return next;
  }

  clear() {
    this.past = [];
    this.future = [];
    this.lastKey = null;
  }

  get canUndo() {
    return this.past.length > 0;
  }
  get canRedo() {
    return this.future.length > 0;
  }
}
