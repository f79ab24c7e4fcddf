// When the reader of a command's output goes away (`packet-workbench ping … | head -1`),
// the command ends as ping(8) and tcpdump end on SIGPIPE, without the stack trace Node
// prints for an unhandled EPIPE: nothing more is written, the work stops by the path
// Ctrl-C takes (onInterrupt), and the exit status is 141, what a shell reports for a
// process SIGPIPE ended (128 + 13). Node ignores SIGPIPE, so the CLI does this itself.
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';

export type Stream = 'stdout' | 'stderr';

/** Write errors that mean the reader is gone (ERR_STREAM_DESTROYED: a write after that). */
const READER_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);
/** How often a socket on stdout is asked whether its reader is still there. */
const SOCKET_POLL_MS = 200;
const EMPTY = Buffer.alloc(0);

const broken = { stdout: false, stderr: false };
/** A write failure other than a vanished reader (ENOSPC on /dev/full…), reported once. */
let failure: NodeJS.ErrnoException | null = null;
const listeners = new Set<() => void>();

/** Whether writing to the stream is pointless: its reader went away or writing failed. */
export function isBroken(stream: Stream): boolean {
  const errored = process[stream].errored as NodeJS.ErrnoException | null;
  return broken[stream] || Boolean(errored);
}

/** The write error that was not a vanished reader, if there was one. */
export function outputFailure(): NodeJS.ErrnoException | null {
  return failure;
}

/**
 * Calls `listener` once when stdout or stderr can no longer be written (at once, in a
 * microtask, if that happened already). Returns the function that removes it.
 */
export function onOutputClosed(listener: () => void): () => void {
  if (broken.stdout || broken.stderr) {
    queueMicrotask(listener);
    return () => undefined;
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function closed(stream: Stream, error?: NodeJS.ErrnoException): void {
  if (error && !READER_GONE.has(error.code ?? '') && !failure) {
    failure = error;
    if (stream === 'stdout' && !isBroken('stderr')) process.stderr.write(`packet-workbench: cannot write the output: ${error.message}\n`);
  }
  if (broken[stream]) return;
  broken[stream] = true;
  const waiting = [...listeners];
  listeners.clear();
  for (const listener of waiting) listener();
}

let listening = false;

/**
 * Watches stdout and stderr for the end of their readers: a failed write, and, while the
 * command writes nothing (a server, a lab or a capture waiting), stdout itself. Returns
 * the function that stops watching stdout; the write errors stay handled for the life of
 * the process (the error of a last write arrives after the command has returned).
 */
export function watchOutput(): () => void {
  if (!listening) {
    listening = true;
    process.stdout.on('error', (error: NodeJS.ErrnoException) => closed('stdout', error));
    process.stderr.on('error', (error: NodeJS.ErrnoException) => closed('stderr', error));
  }
  return watchReader(() => closed('stdout'));
}

function watchReader(gone: () => void): () => void {
  let stat;
  try {
    stat = fstatSync(1);
  } catch {
    return () => undefined;
  }
  // Node makes stdout a net.Socket only for a stream socket (a datagram one would carry the empty writes).
  if (stat.isSocket() && process.stdout instanceof Socket) return watchSocket(gone);
  if (stat.isFIFO()) return watchPipe(gone);
  return () => undefined;
}

/** A zero-byte write to a socket sends nothing, and fails with EPIPE once the peer has closed. */
function watchSocket(gone: () => void): () => void {
  const timer = setInterval(() => {
    try {
      writeSync(1, EMPTY);
    } catch (error) {
      if (READER_GONE.has((error as NodeJS.ErrnoException).code ?? '')) {
        clearInterval(timer);
        gone();
      }
    }
  }, SOCKET_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * A pipe tells its writer that the last reader left only by a failed write or by poll
 * (POLLERR); a zero-byte write succeeds regardless. Node polls only a descriptor it reads,
 * and its pipe handles refuse to read a write-only one; its TCP handle does not check, so a
 * second write-only descriptor of the same pipe (opened through /proc, close-on-exec) read
 * by a TCP handle fails with EBADF exactly when epoll reports POLLERR (a pipe's write end is
 * never readable). That handle is Node-internal: where it is missing, a closed pipe is
 * noticed at the next write, as tcpdump notices it.
 */
function watchPipe(gone: () => void): () => void {
  type TcpBinding = { TCP: new (type: number) => { open(fd: number): number }; constants: { SOCKET: number } };
  let fd = -1;
  let watcher: Socket;
  try {
    const binding = (process as unknown as { binding(name: string): TcpBinding }).binding('tcp_wrap');
    fd = openSync('/proc/self/fd/1', constants.O_WRONLY | constants.O_NONBLOCK);
    const handle = new binding.TCP(binding.constants.SOCKET);
    if (handle.open(fd) !== 0) throw new Error('stdout cannot be watched');
    watcher = new Socket({ handle, readable: true, writable: false } as ConstructorParameters<typeof Socket>[0]);
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    // A named FIFO refuses a non-blocking writer when it has no reader: gone already.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') queueMicrotask(gone);
    return () => undefined;
  }
  watcher.on('error', () => gone());
  watcher.unref();
  return () => watcher.destroy();
}
