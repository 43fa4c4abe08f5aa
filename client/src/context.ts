import { createContext, useContext } from 'react';
import type { NodeDescription } from '../../nodes/core/definition';
import type { WorkflowProblem } from '../../nodes/core/workflow';

export interface StudioContextValue {
  descs: Map<string, NodeDescription>;
  problems: Map<string, WorkflowProblem[]>;
  setParam(nodeId: string, key: string, value: unknown): void;
  /** Ports of a node whose type is unknown, taken from its edges. */
  missingPorts(nodeId: string): { inputs: string[]; outputs: string[] };
  uploadFor(nodeId: string, key: string, file: File): void;
}

export const StudioContext = createContext<StudioContextValue | null>(null);

export function useStudio(): StudioContextValue {
  const v = useContext(StudioContext);
  if (!v) throw new Error('StudioContext missing');
  return v;
}
