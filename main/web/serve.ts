// Runs the browser host as a program: the engine, the host on 127.0.0.1, and the
// URL (with its token) printed for the user to open.
//   node dist/main/web/serve.js [--port N] [--static DIR]
import * as path from 'node:path';
import { Workbench } from '../engine';
import { startBrowserHost, type BrowserHost } from './host';

export interface ServeOptions {
  port?: number;
  staticDir?: string;
  /** Printed above the URL, e.g. why the browser host runs instead of the Electron window. */
  reason?: string;
  log?: (line: string) => void;
}

/** The built renderer: renderer/dist beside the project's dist/ folder. */
export function defaultStaticDir(): string {
  return path.resolve(__dirname, '..', '..', '..', 'renderer', 'dist');
}

export async function serve(options: ServeOptions = {}): Promise<BrowserHost & { stop(): Promise<void> }> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const engine = new Workbench();
  let host: BrowserHost;
  try {
    host = await startBrowserHost({ engine, port: options.port ?? 0, host: '127.0.0.1', staticDir: options.staticDir ?? defaultStaticDir() });
  } catch (error) {
    await engine.close();
    throw error;
  }
  if (options.reason) log(options.reason);
  log(`Packet Workbench is serving on 127.0.0.1 only. Open this URL in a browser on this machine:`);
  log(`  ${host.url}`);
  log('The token in the URL is the key: anyone with it can use this workbench. Ctrl+C stops it.');
  const stop = async () => {
    await host.close();
    await engine.close();
  };
  return Object.assign(host, { stop });
}

/**
 * The --port of both `serve` entry points (this program and `packet-workbench serve`):
 * a whole number from 0 to 65535, 0 for any free port. Throws a RangeError saying so.
 */
export function parsePort(value: string | number | undefined): number {
  const port = typeof value === 'string' ? (/^\d+$/.test(value.trim()) ? Number(value) : NaN) : value;
  if (port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`--port: must be a whole number from 0 to 65535 (0: any free port), not ${value === undefined ? 'nothing' : `'${value}'`}`);
  }
  return port;
}

function parseArgs(argv: string[]): ServeOptions {
  const options: ServeOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') {
      options.port = parsePort(argv[++i]);
    } else if (arg === '--static') {
      options.staticDir = path.resolve(argv[++i] ?? '');
    } else if (arg === '--reason') {
      options.reason = argv[++i];
    } else {
      throw new Error(`Unknown option '${arg}'. Options: --port N, --static DIR`);
    }
  }
  return options;
}

if (require.main === module) {
  serve(parseArgs(process.argv.slice(2))).then(
    (host) => {
      const shutdown = () => {
        void host.stop().finally(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (error: unknown) => {
      process.stderr.write(`The browser host did not start: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
