// An experiment run in words for the history and the run line: what was probed, how, and
// how it ended ("not reached after 2 hops" rather than "done · 2 hops").
import type { ExperimentRun } from '../../../common/contract';
import { formatMs } from './format';

const DEFAULT_UDP_PORT = 33434;
const DEFAULT_TCP_PORT = 80;

/** "ICMP echo, 56 bytes", "UDP to port 33434 (+1 per probe)", "TCP SYN to port 443". */
export function probeWords(run: ExperimentRun): string {
  const icmp = run.family === 'ipv6' ? 'ICMPv6' : 'ICMP';
  if (run.kind === 'ping') {
    const size = run.params.size;
    return `${icmp} echo${typeof size === 'number' ? `, ${size} bytes` : ''}`;
  }
  if (run.kind === 'pmtu') return 'UDP, DF set';
  const probe = run.params.probe ?? 'icmp';
  const port = typeof run.params.port === 'number' ? run.params.port : undefined;
  if (probe === 'udp') return port === undefined ? `UDP to port ${DEFAULT_UDP_PORT} (+1 per probe)` : `UDP to port ${port}`;
  if (probe === 'tcp') return `TCP SYN to port ${port ?? DEFAULT_TCP_PORT}`;
  return `${icmp} echo`;
}

const hopsWord = (n: number) => `${n} hop${n === 1 ? '' : 's'}`;

/** How the run went, in a sentence a user reads at a glance. */
export function resultWords(run: ExperimentRun): string {
  if (run.state === 'failed') return run.error ? `failed: ${run.error.message}` : 'failed';
  if (run.ping) {
    const s = run.ping.statistics;
    const base = `${s.transmitted} sent, ${s.received} received, ${s.loss.toFixed(1)}% loss`;
    return s.received > 0 ? `${base}, avg ${formatMs(s.avg)} ms` : base;
  }
  if (run.mtr) {
    const { cycles, hops, reached } = run.mtr;
    const last = hops[hops.length - 1];
    const cycleWords = `${cycles} cycle${cycles === 1 ? '' : 's'}`;
    if (!last) return `${cycleWords}, no answer yet`;
    const at = `${reached ? 'target' : 'last answering hop'} ${last.ttl}: ${last.lossPercent.toFixed(1)}% loss`;
    return `${cycleWords}, ${at}${last.avgMs === undefined ? '' : `, avg ${formatMs(last.avgMs)} ms`}`;
  }
  if (run.pmtu) {
    const { hops, pathMtu, reached } = run.pmtu;
    const last = hops.length ? hops[hops.length - 1].ttl : 0;
    if (run.state === 'running') return `${hopsWord(last)} so far${pathMtu === undefined ? '' : `, pmtu ${pathMtu}`}`;
    return `${reached ? `reached after ${hopsWord(last)}` : `not reached after ${hopsWord(last)}`}, path MTU ${pathMtu ?? 'unknown'}`;
  }
  if (run.traceroute) {
    const hops = run.traceroute.hops;
    const last = hops.length ? hops[hops.length - 1].ttl : 0;
    if (run.traceroute.reached) return `destination reached after ${hopsWord(last)}`;
    if (run.state === 'running') return `${hopsWord(hops.length)} so far`;
    if (run.state === 'stopped') return `stopped after ${hopsWord(hops.length)}, not reached`;
    return `not reached after ${hopsWord(hops.length)}`;
  }
  return '';
}
