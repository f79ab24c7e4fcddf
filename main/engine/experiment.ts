// What ping and traceroute runs need from the workbench: sockets, the log, events,
// and identifiers no other running experiment holds.
import { createSocket, type Socket, type SocketOptions } from '@packet-workbench/raw-socket';
import type { ExperimentRun } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import type { EventHub } from './events';
import { raiseReceiveBuffer } from './options';
import type { DirectionCode } from './ring';

export interface LoggedPacket {
  bytes: Uint8Array;
  direction: DirectionCode;
  family: 4 | 6;
  withIpHeader: boolean;
  protocol: number;
  peer: string | null;
  local: string | null;
  /** ns since the epoch (kernel timestamp), when known. */
  timestampNs?: bigint;
}

export interface ExperimentHost {
  readonly events: EventHub;
  openSocket(options: SocketOptions): Socket;
  log(packet: LoggedPacket): void;
  /** An ICMP echo identifier no running experiment uses. */
  takeEchoId(): number;
  releaseEchoId(id: number): void;
  /** A source port (TCP/UDP probes) no running experiment uses. */
  takePort(): number;
  releasePort(port: number): void;
  /** The run ended (done, stopped or failed). */
  ended(run: ExperimentRun): void;
}

export interface Experiment {
  readonly run: ExperimentRun;
  stop(): void;
}

/** ms since the epoch with sub-ms precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function nsToMs(ns: bigint | undefined): number {
  return ns === undefined ? nowMs() : Number(ns / 1000n) / 1000;
}

/** A library error as a WorkbenchError, keeping its code (EPERM …) and message (with the remedy). */
export function toWorkbenchError(error: unknown, field?: string): WorkbenchError {
  if (error instanceof WorkbenchError) return error;
  const code = (error as { code?: unknown }).code;
  return new WorkbenchError(typeof code === 'string' ? code : 'INTERNAL', (error as Error)?.message ?? String(error), field);
}

/**
 * A library socket, its errors as WorkbenchErrors. Its receive buffer is raised to
 * RECEIVE_BUFFER_BYTES (best effort) unless `receiveBuffer: false` (a socket that never reads).
 */
export function openSocket(options: SocketOptions, { receiveBuffer = true }: { receiveBuffer?: boolean } = {}): Socket {
  let socket: Socket;
  try {
    socket = createSocket(options);
  } catch (error) {
    throw toWorkbenchError(error);
  }
  if (receiveBuffer) raiseReceiveBuffer(socket);
  return socket;
}

export function snapshot(run: ExperimentRun): ExperimentRun {
  return structuredClone(run);
}
