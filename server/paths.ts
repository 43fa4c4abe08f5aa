/** Where the studio's folders are, so the server, CLI, tests and bench agree. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MODELS_DIR = path.join(ROOT_DIR, 'models');
export const WORKFLOWS_DIR = path.join(ROOT_DIR, 'workflows');
export const DEFAULT_WORKFLOW = path.join(WORKFLOWS_DIR, 'text-to-video.json');
export const DEFAULT_DATA_DIR = path.join(ROOT_DIR, 'out');
