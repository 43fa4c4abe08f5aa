/**
 * Every file a workflow names is confined to a few allowed folders: a shared workflow
 * must never be able to read /etc/passwd or write next to the user's documents.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

export class PathError extends Error {
  override name = 'PathError';
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Resolves `userPath` against each root in turn (relative paths) or checks it lies in
 * one (absolute paths). Symlinks are resolved before the check, so a link cannot escape.
 */
export function confinePath(userPath: string, roots: readonly string[], field: string): string {
  if (typeof userPath !== 'string' || userPath.length === 0) throw new PathError(`${field}: no file given`);
  if (userPath.includes('\0')) throw new PathError(`${field}: the path contains a NUL byte`);
  const candidates = path.isAbsolute(userPath) ? [path.normalize(userPath)] : roots.map((r) => path.resolve(r, userPath));
  for (const candidate of candidates) {
    const root = roots.find((r) => isInside(path.resolve(r), candidate));
    if (!root) continue;
    if (!existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    const realRoot = realpathSync(path.resolve(root));
    if (isInside(realRoot, real)) return real;
  }
  const escapes = candidates.every((c) => !roots.some((r) => isInside(path.resolve(r), c)));
  if (escapes) {
    throw new PathError(`${field}: "${userPath}" is outside the allowed folders (${roots.join(', ')})`);
  }
  throw new PathError(`${field}: file "${userPath}" not found in the allowed folders (${roots.join(', ')})`);
}

/** A safe file name for outputs: letters, digits, "-", "_" and ".", no path parts. */
export function safeFileName(name: string, field: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(name) || name.includes('..')) {
    throw new PathError(`${field}: "${name}" is not a plain file name (letters, digits, "-", "_", "." only, no folders)`);
  }
  return name;
}
