// Sockets Send opened on its own ("implicit"): which one a send may reuse, and which have idled
// long enough to close. Pure, so the rules are tested without timers or an engine.
import type { SendJobInfo, SocketInfo } from '../../../common/contract';

/** An implicit socket closes once no send job runs on it and none has for this long. */
export const IMPLICIT_IDLE_MS = 60_000;

export interface SocketNeeds {
  family: 'ipv4' | 'ipv6';
  protocol: number;
  /** An ICMP/ICMPv6 echo request: the only packet an unprivileged datagram socket sends. */
  echoRequest: boolean;
  /** The lab host to send from; absent: this machine. A socket opened elsewhere is another network. */
  host?: string;
}

/**
 * The implicit socket a send reuses: open, of the family and protocol, able to send the packet
 * (a datagram socket sends echo requests only), with no capture filter, in the same lab host (or
 * none); the most recently used.
 */
export function reusableSocket(list: readonly SocketInfo[], implicit: Readonly<Record<string, number>>, needs: SocketNeeds): SocketInfo | undefined {
  let best: SocketInfo | undefined;
  for (const socket of list) {
    if (!(socket.socketId in implicit) || socket.closed || socket.filter !== null) continue;
    if (socket.family !== needs.family || socket.protocol !== needs.protocol) continue;
    if ((socket.host ?? '') !== (needs.host ?? '')) continue;
    if (socket.mode === 'datagram' && !needs.echoRequest) continue;
    if (!best || implicit[socket.socketId] > implicit[best.socketId]) best = socket;
  }
  return best;
}

/** Implicit sockets no running job uses and unused for IMPLICIT_IDLE_MS at `now`. */
export function idleSockets(implicit: Readonly<Record<string, number>>, jobs: readonly SendJobInfo[], now: number, idleMs = IMPLICIT_IDLE_MS): string[] {
  const busy = new Set(jobs.filter((job) => job.state === 'running').map((job) => job.socketId));
  return Object.keys(implicit).filter((socketId) => !busy.has(socketId) && now - implicit[socketId] >= idleMs);
}

/** When the next idle socket is due to close, or null when none waits (busy ones wait for their job's end). */
export function nextIdleDue(implicit: Readonly<Record<string, number>>, jobs: readonly SendJobInfo[], idleMs = IMPLICIT_IDLE_MS): number | null {
  const busy = new Set(jobs.filter((job) => job.state === 'running').map((job) => job.socketId));
  let due: number | null = null;
  for (const [socketId, lastUsed] of Object.entries(implicit)) {
    if (busy.has(socketId)) continue;
    if (due === null || lastUsed + idleMs < due) due = lastUsed + idleMs;
  }
  return due;
}
