// Path-MTU discovery as tracepath(8) does it, without privileges: UDP probes from a datagram
// socket with DF set (IP_PMTUDISC_PROBE: the interface's MTU, not the cached path MTU, so every
// router on the way is asked again), TTL 1, 2, 3… The kernel's error queue says what happened:
// - a local EMSGSIZE: the probe is larger than the first link; `info` is that link's MTU;
// - Fragmentation Needed (IPv4) / Packet Too Big (IPv6) from a router: `info` is its next-hop MTU;
// - Time Exceeded: the hop, reached at this size; Port Unreachable from the target: the end.
// After a smaller MTU the same TTL is probed again at that size. The first probe has the
// largest size an IP packet can have, so the local MTU is learnt from the kernel, not guessed.
import type { IcmpError, Socket } from '@packet-workbench/raw-socket';
import type { ExperimentRun, Params, PmtuHop } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, isIpv6, parseIpAddress } from '../../packets/address';
import { type Experiment, type ExperimentHost, nowMs, snapshot, toWorkbenchError } from './experiment';
import { errorKind, roundTripMs } from './icmp';

// Linux's numbers (linux/in.h, linux/in6.h): no library constant names them.
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IP_MTU_DISCOVER = 10;
const IPV6_MTU_DISCOVER = 23;
/** Set DF (IPv6: never fragment locally) and size by the interface's MTU, ignoring the cached path MTU. */
const PMTUDISC_PROBE = 3;

const BASE_PORT = 44444;
/** Timeouts in a row before a hop is given up as silent (tracepath tries twice too). */
const TRIES_PER_HOP = 2;

/** The IP and UDP headers around a probe's payload. */
const HEADERS = { 4: 20 + 8, 6: 40 + 8 } as const;
/** The largest packet: IPv4's total length field; IPv6's payload length field plus its header. */
const LARGEST = { 4: 65_535, 6: 65_535 + 40 } as const;
/** The smallest MTU a link may have: a router reporting less is not believed. */
const SMALLEST = { 4: 68, 6: 1280 } as const;

type Outcome =
  | { kind: 'local-mtu'; mtu: number }
  | { kind: 'too-big'; responder: string; mtu: number; rttMs: number; icmp: string }
  | { kind: 'hop'; responder: string; rttMs: number; icmp: string }
  | { kind: 'timeout' };

interface Probe {
  port: number;
  sentMono: number;
  sentAtNs?: bigint;
  settle(outcome: Outcome): void;
}

export class PmtuRun implements Experiment {
  readonly run: ExperimentRun;
  private readonly family: 4 | 6;
  private readonly target: string;
  private socket: Socket | null = null;
  private probe: Probe | null = null;
  private probes = 0;

  constructor(
    private readonly host: ExperimentHost,
    runId: string,
    private readonly params: Params<'pmtu'>,
  ) {
    this.family = isIpv6(params.target) ? 6 : 4;
    this.target = formatIpAddress(parseIpAddress(params.target));
    this.run = {
      runId,
      kind: 'pmtu',
      target: params.target,
      family: this.family === 4 ? 'ipv4' : 'ipv6',
      params: { ...params },
      state: 'running',
      startedAt: nowMs(),
      mode: 'error-queue',
      via: 'error-queue',
      pmtu: { hops: [], reached: false },
    };
  }

  async start(): Promise<void> {
    if (process.platform !== 'linux') {
      throw new WorkbenchError('ENOTSUP', `Path-MTU discovery reads the kernel's error queue, which only Linux offers (this is ${process.platform})`);
    }
    const { socket } = await this.host.openSocket(
      { addressFamily: this.family === 4 ? 1 : 2, protocol: 17, mode: 'datagram', receiveErrors: true, timestamps: true },
      { receiveBuffer: false },
    );
    try {
      if (this.family === 4) socket.setOption(IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_PROBE);
      else socket.setOption(IPPROTO_IPV6, IPV6_MTU_DISCOVER, PMTUDISC_PROBE);
    } catch (error) {
      socket.close();
      throw toWorkbenchError(error);
    }
    socket.on('icmpError', this.onIcmpError);
    socket.on('error', () => undefined);
    if (this.run.state !== 'running') {
      socket.close();
      return;
    }
    this.socket = socket;
    this.publish();
    void this.discover().catch((error) => this.finish('failed', toWorkbenchError(error)));
  }

  stop(): void {
    this.finish('stopped');
  }

  abort(error: WorkbenchError): void {
    this.finish('failed', error);
  }

  private async discover(): Promise<void> {
    const result = this.run.pmtu!;
    let mtu: number = LARGEST[this.family];
    for (let ttl = 1; ttl <= this.params.maxHops; ttl++) {
      let silent = 0;
      for (;;) {
        // Each smaller MTU is at least one byte less: bounded by the sizes, and this guards a confused path.
        if (this.probes > this.params.maxHops * 16) throw new WorkbenchError('INTERNAL', `Path-MTU discovery gave up after ${this.probes} probes`);
        const outcome = await this.send(ttl, mtu);
        if (this.run.state !== 'running') return;
        if (outcome.kind === 'local-mtu' || outcome.kind === 'too-big') {
          if (outcome.mtu >= mtu || outcome.mtu < SMALLEST[this.family]) {
            throw new WorkbenchError('EPROTO', `${outcome.kind === 'too-big' ? outcome.responder : 'The local interface'} reported MTU ${outcome.mtu} for a ${mtu}-byte packet`);
          }
          mtu = outcome.mtu;
          this.add(
            outcome.kind === 'local-mtu'
              ? { ttl, mtu, note: 'local interface MTU' }
              : { ttl, address: outcome.responder, mtu, rttMs: outcome.rttMs, note: this.family === 4 ? 'Fragmentation Needed' : 'Packet Too Big' },
          );
          continue;
        }
        if (outcome.kind === 'timeout') {
          if (++silent < TRIES_PER_HOP) continue;
          this.add({ ttl, mtu, note: 'no reply' });
          break;
        }
        if (outcome.icmp === 'time-exceeded') {
          this.add({ ttl, address: outcome.responder, mtu, rttMs: outcome.rttMs });
          break;
        }
        // Port Unreachable: the target. Any other unreachable: nothing gets further.
        result.reached = outcome.icmp === 'port-unreachable';
        this.add({ ttl, address: outcome.responder, mtu, rttMs: outcome.rttMs, note: result.reached ? 'reached' : outcome.icmp });
        result.pathMtu = mtu;
        return this.finish('done');
      }
    }
    // Not reached: the MTU is known as far as the probes got.
    result.pathMtu = mtu;
    this.finish('done');
  }

  /** One probe of `size` bytes (IP header included) with this TTL; resolves with what came back. */
  private send(ttl: number, size: number): Promise<Outcome> {
    const socket = this.socket!;
    const port = BASE_PORT + (this.probes++ % 10_000);
    return new Promise((resolve) => {
      const timer = setTimeout(() => probe.settle({ kind: 'timeout' }), this.params.timeoutMs);
      const probe: Probe = {
        port,
        sentMono: performance.now(),
        settle: (outcome) => {
          if (this.probe !== probe) return;
          clearTimeout(timer);
          this.probe = null;
          resolve(outcome);
        },
      };
      this.probe = probe;
      const payload = Buffer.alloc(size - HEADERS[this.family]);
      socket.send(payload, 0, payload.length, { address: this.target, port, hopLimit: ttl }, undefined, (error, _bytes, sentAt) => {
        if (!error) {
          probe.sentAtNs = sentAt;
          return;
        }
        const code = (error as { code?: string }).code;
        // EMSGSIZE: the local error with the MTU comes from the error queue (onIcmpError).
        if (code === 'EMSGSIZE') return;
        clearTimeout(timer);
        if (this.probe === probe) this.probe = null;
        this.finish('failed', toWorkbenchError(error));
      });
    });
  }

  private onIcmpError = (error: IcmpError): void => {
    const probe = this.probe;
    if (!probe || error.address !== this.target) return;
    if (error.origin === 'local') {
      if (error.code === 'EMSGSIZE' && error.info > 0) probe.settle({ kind: 'local-mtu', mtu: error.info });
      return;
    }
    // An answer to an earlier probe (a late one) is not this probe's.
    if ((error.origin !== 'icmp' && error.origin !== 'icmp6') || error.port !== probe.port) return;
    const responder = error.offender ?? this.target;
    const rttMs = roundTripMs(probe.sentAtNs, error.timestamp, probe.sentMono, performance.now());
    const icmp = errorKind(error.icmpType, error.icmpCode, this.family);
    if (icmp === 'unreachable-fragmentation' || icmp === 'packet-too-big') probe.settle({ kind: 'too-big', responder, mtu: error.info, rttMs, icmp });
    else probe.settle({ kind: 'hop', responder, rttMs, icmp });
  };

  private add(hop: PmtuHop): void {
    if (hop.rttMs === undefined) delete hop.rttMs;
    this.run.pmtu!.hops.push(hop);
    this.publish();
  }

  private publish(): void {
    this.host.events.coalesce(`experiment:${this.run.runId}`, () => ({ type: 'experiment', run: snapshot(this.run) }));
  }

  private finish(state: 'done' | 'stopped' | 'failed', error?: WorkbenchError): void {
    if (this.run.state !== 'running') return;
    this.run.state = state;
    if (error) this.run.error = { code: error.code, message: error.message };
    this.run.finishedAt = nowMs();
    this.probe?.settle({ kind: 'timeout' });
    this.socket?.close();
    this.socket = null;
    this.publish();
    this.host.ended(this.run);
  }
}
