// A placeholder Electron distribution for electron-builder, offline (Electron's binary cannot
// be downloaded here): the executable, its version file, chrome-sandbox, resources/. After
// `exit` the executable carries a fuse wire as Electron's binary has it (sentinel, version 1,
// length, one byte per fuse with Electron's defaults), so electron-builder.yml's
// electronFuses can flip it. The same shape main/test/packaging.test.ts builds.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const ELECTRON_VERSION = '40.9.3';
/** @electron/fuses' marker before the fuse wire in an Electron binary. */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Electron's own fuse settings ('1' on, '0' off), in @electron/fuses' FuseV1Options order. */
export const ELECTRON_DEFAULT_FUSES = '10110001';

/** Writes the placeholder into `dir` and returns `dir` (electron-builder's electronDist). */
export function placeholderElectron(dir: string): string {
  mkdirSync(path.join(dir, 'resources'), { recursive: true });
  writeFileSync(
    path.join(dir, 'electron'),
    Buffer.concat([
      Buffer.from('#!/bin/sh\necho "placeholder Electron: the binary cannot be downloaded here" >&2\nexit 1\n# '),
      Buffer.from(FUSE_SENTINEL),
      Buffer.from([1, ELECTRON_DEFAULT_FUSES.length]),
      Buffer.from(ELECTRON_DEFAULT_FUSES),
      Buffer.from('\n'),
    ]),
    { mode: 0o755 },
  );
  writeFileSync(path.join(dir, 'chrome-sandbox'), '', { mode: 0o755 });
  writeFileSync(path.join(dir, 'version'), ELECTRON_VERSION);
  return dir;
}
