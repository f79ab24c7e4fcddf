// The browser host for end-to-end tests and the UI benchmark: the real engine behind the
// real WebSocket host, on 127.0.0.1 with a known port and token, serving renderer/dist.
// Runs the compiled main process code (dist/, from `tsc -p tsconfig.json`).
//   node e2e/serve.mjs [--port N] [--token T]
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : (process.env[`WORKBENCH_E2E_${name.toUpperCase()}`] ?? fallback);
}

const port = Number(option('port', '47801'));
const token = option('token', 'e2e-token-0123456789abcdef');
const staticDir = path.join(root, 'renderer', 'dist');

let host;
let engine;
try {
  const { startBrowserHost } = require(path.join(root, 'dist/main/web/host.js'));
  const { Workbench } = require(path.join(root, 'dist/main/engine/index.js'));
  engine = new Workbench();
  host = await startBrowserHost({ engine, port, host: '127.0.0.1', staticDir, token });
} catch (error) {
  process.stderr.write(
    `e2e host did not start: ${error instanceof Error ? error.stack : String(error)}\n` +
      'Build first: npx tsc -p tsconfig.json && npx vite build renderer\n',
  );
  process.exit(1);
}
process.stdout.write(`e2e host ready: ${host.url}\n`);

const stop = async () => {
  await host.close().catch(() => {});
  await engine.close?.().catch(() => {});
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
