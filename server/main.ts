/**
 * `npm start`: builds the editor when it is missing, then serves it and the API.
 * Host and port: --host/--port or STUDIO_HOST/STUDIO_PORT (default 127.0.0.1:8190;
 * 8188 is ComfyUI's, so both can run side by side).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { registry } from '../nodes/registry';
import { startStudio } from './app';
import { DEFAULT_DATA_DIR, ROOT_DIR } from './paths';
import { readWorkflowFromMedia } from '../nodes/lib/media-metadata';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.STUDIO_HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.STUDIO_PORT ?? '8190' },
    data: { type: 'string', default: process.env.STUDIO_DATA_DIR ?? DEFAULT_DATA_DIR },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log('usage: npm start -- [--host 127.0.0.1] [--port 8190] [--data DIR] [--no-build]');
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: expected a port number 0-65535, got "${values.port}"`);
  process.exit(2);
}

const clientDist = path.join(ROOT_DIR, 'client', 'dist', 'index.html');
if (!existsSync(clientDist) && !values['no-build'] && existsSync(path.join(ROOT_DIR, 'client', 'index.html'))) {
  console.error('building the editor (first start)…');
  const built = spawnSync('npx', ['vite', 'build', 'client', '--logLevel', 'warn'], { cwd: ROOT_DIR, stdio: 'inherit' });
  if (built.status !== 0) console.error('the editor failed to build; serving the API only');
}

const studio = await startStudio({
  host: values.host,
  port,
  rootDir: ROOT_DIR,
  dataDir: path.resolve(values.data),
  registry,
  readWorkflowFromMedia: readWorkflowFromMedia,
});
console.log(`studio listening on ${studio.url}`);
if (values.host !== '127.0.0.1' && values.host !== 'localhost' && values.host !== '::1') {
  console.warn(`warning: bound to ${values.host}, reachable from other machines; the API has no authentication`);
}

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    void studio.close().then(() => process.exit(0));
  });
}
