// packet-workbench serve: the browser host (main/web) on 127.0.0.1 until Ctrl-C.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { defaultStaticDir, parsePort, serve as startServing } from '../web/serve';
import { checkInputPath } from './args';
import { CliError, EXIT_OK, EXIT_USAGE } from './errors';
import { onInterrupt, type Output } from './session';

export interface ServeOptions {
  port?: number;
  static?: string;
}

export async function serve(options: ServeOptions, out: Output): Promise<number> {
  let port = 0;
  try {
    if (options.port !== undefined) port = parsePort(options.port);
  } catch (error) {
    throw new CliError(EXIT_USAGE, (error as Error).message);
  }
  const staticDir = options.static !== undefined ? checkStaticDir(options.static) : undefined;
  if (!staticDir && !existsSync(path.join(defaultStaticDir(), 'index.html'))) {
    out.note(`packet-workbench serve: the renderer is not built (no index.html in ${defaultStaticDir()}): \`npm run build\`, or give --static`);
  }
  let host;
  try {
    host = await startServing({
      port,
      ...(staticDir ? { staticDir } : {}),
      log: (line) => out.text(line),
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'EADDRINUSE' ? `port ${options.port} is in use; choose another with --port, or --port 0 for any free one` : (error as Error).message;
    throw new CliError(code === 'EADDRINUSE' || code === 'EACCES' ? EXIT_USAGE : 1, `the browser host did not start: ${why}`, code ?? 'FAILED');
  }
  out.record({ type: 'serving', url: host.url, address: host.address, port: host.port, token: host.token });
  await new Promise<void>((resolve) => {
    const remove = onInterrupt(() => {
      remove();
      resolve();
    });
  });
  await host.stop();
  out.record({ type: 'stopped' });
  return EXIT_OK;
}

/** A --static folder must be a built renderer: a readable folder with an index.html. */
function checkStaticDir(value: string): string {
  const dir = checkInputPath('--static', value, 'folder');
  if (!existsSync(path.join(dir, 'index.html'))) {
    throw new CliError(EXIT_USAGE, `--static ${value}: no index.html in it; give the built renderer (renderer/dist after \`npm run build\`)`);
  }
  return dir;
}
