// What this process may do, per experiment, and how: its own raw sockets, the socket
// helper's, unprivileged ICMP datagram sockets, or the kernel's error queue (UDP/TCP/ping
// sockets that read the ICMP errors about their own probes). Pure: the probes of what the
// kernel allows are passed in, so every combination is testable.
import type { Capabilities, ExperimentCapability, ExperimentName, HelperStatus, Via } from '../../common/contract';
import { HELPER_REMEDY } from './socket-source';

export interface Facts {
  platform: string;
  uid: number | null;
  /** This process may open raw sockets. */
  raw: boolean;
  datagram: { ipv4: boolean; ipv6: boolean };
  pingGroupRange: [number, number] | null;
  helper: HelperStatus;
  /** The library's own remedy for refused raw sockets (setcap on node, ping_group_range). */
  libraryRemedy: string;
}

const LABELS: Record<ExperimentName, string> = {
  ping: 'Ping',
  'traceroute-icmp': 'Traceroute (ICMP)',
  'traceroute-udp': 'Traceroute (UDP)',
  'traceroute-tcp': 'Traceroute (TCP)',
  'send-raw': 'Send a crafted packet',
  capture: 'Capture',
  'socket-options': 'Socket options',
};

const PING_GROUP_REMEDY =
  "or let your group open ICMP datagram sockets: `sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'`";

export function describeCapabilities(facts: Facts): Capabilities {
  const helperRunning = facts.helper.state === 'running';
  const rawVia: Via | null = facts.raw ? 'raw' : helperRunning ? 'helper' : null;
  const anyDatagram = facts.datagram.ipv4 || facts.datagram.ipv6;
  const errorQueue = facts.platform === 'linux';
  const noRaw = facts.platform === 'linux' ? HELPER_REMEDY : facts.libraryRemedy;
  // Works without raw sockets, but raw sockets would give the full experiment.
  const lesser = (what: string): string => `Works without privileges (${what}). For raw sockets: ${noRaw}`;

  const row = (experiment: ExperimentName, via: Via | null, remedy: string | null): ExperimentCapability => ({
    experiment,
    label: LABELS[experiment],
    works: via !== null,
    via,
    remedy,
  });

  const experiments: ExperimentCapability[] = [
    rawVia
      ? row('ping', rawVia, null)
      : anyDatagram
        ? row('ping', 'datagram', lesser('ICMP datagram sockets; the kernel picks the echo identifier'))
        : row('ping', null, `${noRaw} Or ${PING_GROUP_REMEDY.replace(/^or /, '')}`),
    rawVia
      ? row('traceroute-icmp', rawVia, null)
      : errorQueue && anyDatagram
        ? row('traceroute-icmp', 'error-queue', lesser('an ICMP datagram socket reads the ICMP errors from its error queue'))
        : row('traceroute-icmp', null, `${noRaw} ${errorQueue ? `Or ${PING_GROUP_REMEDY.replace(/^or /, '')}.` : ''}`.trim()),
    rawVia
      ? row('traceroute-udp', rawVia, null)
      : errorQueue
        ? row('traceroute-udp', 'error-queue', lesser('UDP probes read their ICMP errors from the error queue, as tracepath does'))
        : row('traceroute-udp', null, noRaw),
    rawVia
      ? row('traceroute-tcp', rawVia, null)
      : errorQueue
        ? row('traceroute-tcp', 'error-queue', lesser('non-blocking connect() probes read their ICMP errors from the error queue'))
        : row('traceroute-tcp', null, noRaw),
    rawVia ? row('send-raw', rawVia, null) : row('send-raw', null, noRaw),
    rawVia ? row('capture', rawVia, null) : row('capture', null, noRaw),
    rawVia
      ? row('socket-options', rawVia, null)
      : anyDatagram
        ? row('socket-options', 'datagram', lesser('options of ICMP datagram sockets only'))
        : row('socket-options', null, noRaw),
  ];

  const modes: Capabilities['modes'] = [];
  if (rawVia) modes.push('raw');
  if (anyDatagram) modes.push('datagram');
  return {
    platform: facts.platform,
    uid: facts.uid,
    raw: facts.raw,
    datagram: facts.datagram,
    pingGroupRange: facts.pingGroupRange,
    modes,
    remedy: rawVia ? null : `${facts.libraryRemedy}${facts.platform === 'linux' ? ` ${HELPER_REMEDY}` : ''}`,
    helper: facts.helper,
    experiments,
  };
}
