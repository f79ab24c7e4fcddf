// A capture file written while packets arrive, as tcpdump -w does: whole blocks are
// encoded into memory and appended with write(2) at least every FLUSH_INTERVAL_MS
// (sooner when FLUSH_BYTES are waiting) and at exit, so the file holds every packet
// up to the last flush whatever kills the process, and never half a block unless the
// kernel cut a write short. No fsync: a crash of the process, not of the machine, is
// what this guards against.
import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { PcapEncoder, PcapngEncoder, type CaptureEncoder } from '../../packets/pcapng';

export const FLUSH_INTERVAL_MS = 200;
const FLUSH_BYTES = 1 << 20;

export type CaptureFormat = 'pcapng' | 'pcap';

/** The file cannot be written: `code` is the system's (ENOENT, EISDIR, ENOSPC…), the message names the path. */
export class CaptureFileError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CaptureFileError';
  }
}

/** 'pcap' for a name ending in .pcap, else 'pcapng'. */
export function formatForPath(file: string): CaptureFormat {
  return /\.pcap$/i.test(file) ? 'pcap' : 'pcapng';
}

export class CaptureFile {
  readonly encoder: CaptureEncoder;
  private fd: number | null;
  private bytesWritten = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => this.close();
  private failure: CaptureFileError | null = null;

  /**
   * Creates (or truncates) the file and writes its header at once, so a path that cannot
   * be written (missing directory, a directory, a full disk) fails before any capture.
   * `onError` hears of a write that fails later (the file is then closed).
   */
  constructor(
    readonly path: string,
    readonly format: CaptureFormat,
    options: { application?: string; onError?: (error: CaptureFileError) => void } = {},
  ) {
    checkDirectory(path);
    try {
      this.fd = openSync(path, 'w', 0o644);
    } catch (error) {
      throw fileError(path, error);
    }
    try {
      if (fstatSync(this.fd).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    } catch (error) {
      closeSync(this.fd);
      throw fileError(path, error);
    }
    this.encoder = format === 'pcap' ? new PcapEncoder() : new PcapngEncoder({ application: options.application ?? 'Packet Workbench' });
    try {
      this.flush();
    } finally {
      if (this.failure) this.close();
    }
    if (this.failure) throw this.failure;
    this.timer = setInterval(() => {
      this.flush();
      if (this.failure) {
        const failure = this.failure;
        this.close();
        options.onError?.(failure);
      }
    }, FLUSH_INTERVAL_MS);
    this.timer.unref();
    // process.exit (a second Ctrl-C, an error) still writes what is waiting.
    process.on('exit', this.onExit);
  }

  /** Bytes in the file so far. */
  get size(): number {
    return this.bytesWritten;
  }

  get closed(): boolean {
    return this.fd === null;
  }

  /** The write error that closed the file, if one did. */
  get error(): CaptureFileError | null {
    return this.failure;
  }

  /** Flushes when enough is waiting; call after adding packets. */
  maybeFlush(): void {
    if (this.encoder.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  /** Appends every whole block encoded so far. A failure is kept in `error` (and reported by the timer). */
  flush(): void {
    if (this.fd === null || this.failure || this.encoder.pendingBytes === 0) return;
    const bytes = this.encoder.take();
    try {
      let offset = 0;
      // writeSync may write less than asked (a signal, a nearly full disk): write the rest.
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
      this.bytesWritten += bytes.length;
    } catch (error) {
      this.failure = fileError(this.path, error);
    }
  }

  /** Writes what is waiting and closes the file. Idempotent. */
  close(): void {
    if (this.fd === null) return;
    clearInterval(this.timer);
    process.off('exit', this.onExit);
    this.flush();
    try {
      closeSync(this.fd);
    } catch {
      // Nothing is left to write; a failing close loses nothing more.
    }
    this.fd = null;
  }
}

function checkDirectory(file: string): void {
  if (file === '') throw new CaptureFileError(file, 'EINVAL', 'The capture file name is empty');
  const directory = path.dirname(path.resolve(file));
  let stat;
  try {
    stat = statSync(directory);
  } catch {
    throw new CaptureFileError(file, 'ENOENT', `Cannot write ${file}: the directory ${directory} does not exist`);
  }
  if (!stat.isDirectory()) throw new CaptureFileError(file, 'ENOTDIR', `Cannot write ${file}: ${directory} is not a directory`);
}

function fileError(file: string, error: unknown): CaptureFileError {
  const code = String((error as { code?: unknown }).code ?? 'EIO');
  const why: Record<string, string> = {
    EISDIR: 'it is a directory',
    ENOSPC: 'no space left on the device',
    EACCES: 'permission denied',
    EROFS: 'read-only file system',
    EDQUOT: 'disk quota exceeded',
    ENOENT: 'no such file or directory',
    ENOTDIR: 'a part of the path is not a directory',
  };
  return new CaptureFileError(file, code, `Cannot write ${file}: ${why[code] ?? (error as Error).message ?? code} (${code})`);
}
