/**
 * Reading a workflow back out of an exported file. The format-specific code lives with
 * the export node (nodes/lib/media-metadata.ts); this indirection keeps the server
 * starting while that library is absent.
 */
export async function readWorkflowFromMediaIfAvailable(file: string): Promise<{ workflow: unknown; seed: number | null }> {
  const modulePath = '../nodes/lib/media-metadata';
  const lib = (await import(modulePath)) as { readWorkflowFromMedia?: (f: string) => Promise<{ workflow: unknown; seed: number | null }> };
  if (!lib.readWorkflowFromMedia) throw new Error('this build cannot read workflows from media files');
  return lib.readWorkflowFromMedia(file);
}
