/**
 * Reading a workflow back out of an exported file (mp4/webm tags, gif comment, png text
 * chunk); the format-specific code lives with the export node in nodes/lib.
 */
import { readWorkflowFromMedia } from '../nodes/lib/media-metadata';

export async function readWorkflowFromMediaIfAvailable(file: string): Promise<{ workflow: unknown; seed: number | null }> {
  const found = await readWorkflowFromMedia(file);
  return { workflow: found.workflow, seed: found.seed };
}
