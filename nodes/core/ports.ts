/**
 * Port kinds: what may flow along an edge. Shared by the engine (type checks, cache
 * hashing) and the editor (handle colours, refusing bad connections), so a connection
 * the editor allows is one the engine accepts.
 */
export const PORT_KINDS = ['text-embedding', 'image-embedding', 'frames', 'image', 'file'] as const;
export type PortKind = (typeof PORT_KINDS)[number];

export const PORT_KIND_INFO: Record<PortKind, { colour: string; description: string }> = {
  'text-embedding': { colour: '#f2c94c', description: 'A tokenised prompt and its text embedding' },
  'image-embedding': { colour: '#bb6bd9', description: 'An image embedding (from the prior or an image)' },
  frames: { colour: '#56ccf2', description: 'A sequence of RGB frames with a frame rate' },
  image: { colour: '#6fcf97', description: 'A single RGB image' },
  file: { colour: '#bdbdbd', description: 'A file written to the output folder' },
};

/** An image is a one-frame sequence, so it may feed any frames input; not the reverse. */
export function canConnect(from: PortKind, to: PortKind): boolean {
  return from === to || (from === 'image' && to === 'frames');
}

export function connectionRefusal(from: PortKind, to: PortKind): string | null {
  if (canConnect(from, to)) return null;
  return `an output of kind "${from}" cannot feed an input of kind "${to}"`;
}
