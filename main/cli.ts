#!/usr/bin/env node
// packet-workbench: the command line over the Workbench engine (see cli/README.md).
import { main } from './cli/program';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    // Sockets and timers are closed by then; should anything still hold the loop, do not hang a script.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`packet-workbench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(70);
  },
);
