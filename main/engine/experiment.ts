// What ping and traceroute runs need from the workbench: sockets, the log, events,
// and identifiers no other running experiment holds.
import type { SocketOptions } from '@packet-workbench/raw-socket';
import type { ExperimentRun } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import type { EventHub } from './events';
import type { LabHost } from './labs';
import type { DirectionCode } from './ring';
import type { OpenedSocket } from './socket-source';

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
  /** Headerless packets: the TTL / hop limit it was sent with or arrived with, for capture files. */
  hopLimit?: number;
}

export interface ExperimentHost {
  readonly events: EventHub;
  /**
   * A socket from the engine's socket source (own raw socket, the helper's, or a datagram one;
   * see socket-source.ts); `receiveBuffer: false` for one that never reads.
   */
  openSocket(options: SocketOptions, extra?: { receiveBuffer?: boolean }): Promise<OpenedSocket>;
  /** The local address the run's packets leave from toward `destination` (inside its lab host, when it has one). */
  sourceAddress(destination: string): Promise<string>;
  /** The lab host the run acts from (its sockets are opened in that namespace); absent: the workbench's own. */
  readonly lab?: LabHost;
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
  /** Ends the run as failed with this error (its sockets were taken away, e.g. the helper stopped). */
  abort(error: WorkbenchError): void;
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

export function snapshot(run: ExperimentRun): ExperimentRun {
  return structuredClone(run);
}
