/**
 * Every node type the studio knows, by type name. Listed by hand (not a folder glob)
 * so the compiler checks each entry and a newcomer sees them all in one place.
 */
import type { NodeDefinition } from './core/definition';
import { encodeImageNode } from './encode-image';
import { exportNode } from './export';
import { interpolateNode } from './interpolate';
import { loadImageNode } from './load-image';
import { loadVideoNode } from './load-video';
import { keyframesNode } from './keyframes';
import { previewNode } from './preview';
import { priorNode } from './prior';
import { promptNode } from './prompt';
import { refineNode } from './refine';
import { upscaleNode } from './upscale';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyNode = NodeDefinition<any, any, any>;

export const registry = {
  prompt: promptNode,
  prior: priorNode,
  keyframes: keyframesNode,
  refine: refineNode,
  'encode-image': encodeImageNode,
  preview: previewNode,
  interpolate: interpolateNode,
  upscale: upscaleNode,
  export: exportNode,
  'load-image': loadImageNode,
  'load-video': loadVideoNode,
} satisfies Record<string, AnyNode>;

export type NodeType = keyof typeof registry;
