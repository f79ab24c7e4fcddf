// Where the engine's sockets come from, in order: a raw socket this process may open
// itself (root, CAP_NET_RAW), one opened by the socket helper (started on demand when
// it is installed with its capability, since that never asks for a password), or, for
// ICMP in mode 'auto', an unprivileged datagram ("ping") socket. Callers learn which.
// With options.namespace (a lab host's), the socket is opened inside that network namespace:
// by this process (setns needs root or CAP_SYS_ADMIN) or by a helper started with namespaces.
import { createSocket, type HelperOpenRequest, type Socket, type SocketOptions } from '@packet-workbench/raw-socket';
import { WorkbenchError } from '../../common/validate';
import { toWorkbenchError } from './experiment';
import type { HelperSupervisor } from './helper';
import { raiseReceiveBuffer } from './options';

export type SocketVia = 'raw' | 'helper' | 'datagram';

export interface OpenedSocket {
  socket: Socket;
  via: SocketVia;
}

/** What to do when raw sockets are refused, for a user of the GUI or the command line. */
export const HELPER_REMEDY =
  'Start the socket helper: "Allow raw sockets" in the workbench, or --elevate on the command line ' +
  '(asks for an administrator password through pkexec or sudo); or install it once so it never asks: ' +
  '`sudo packet-workbench setup-helper`.';

const HELPER_PROTOCOLS: Record<'ipv4' | 'ipv6', Record<number, HelperOpenRequest['protocol']>> = {
  ipv4: { 1: 'icmp', 6: 'tcp', 17: 'udp', 255: 'raw' },
  ipv6: { 58: 'icmpv6', 6: 'tcp', 17: 'udp', 255: 'raw' },
};

/** The helper's name for a family and protocol number, or null when its allow-list has none. */
export function helperProtocol(family: 'ipv4' | 'ipv6', protocol: number): HelperOpenRequest['protocol'] | null {
  return HELPER_PROTOCOLS[family][protocol] ?? null;
}

function refused(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'EPERM' || code === 'EACCES';
}

/** What to do when this process may not enter a lab host's namespace. */
export const NAMESPACE_REMEDY =
  'Acting inside a lab host needs root (or CAP_SYS_ADMIN) for setns: run the workbench with sudo, or start the ' +
  'socket helper with lab namespaces (startHelper with namespaces: true; it asks for an administrator password).';

/** The refusal to open a socket inside a lab host's namespace, with the remedy. */
function namespaceRefused(error: unknown, namespace: string): WorkbenchError {
  const detail = (error as Error)?.message ?? String(error);
  return new WorkbenchError('PERMISSION', `Cannot open a socket inside lab namespace ${namespace}: ${detail.split('. ')[0]}. ${NAMESPACE_REMEDY}`, 'host');
}

export class SocketSource {
  constructor(private readonly helper: HelperSupervisor) {}

  /**
   * A socket for `options`. mode 'datagram': the unprivileged socket only. 'raw': a raw socket of
   * this process or of the helper, never a datagram one. 'auto' (default): raw, helper, then the
   * ICMP datagram socket. Refusals are WorkbenchErrors (EPERM/EACCES) whose message has the remedy.
   */
  async open(options: SocketOptions, { receiveBuffer = true }: { receiveBuffer?: boolean } = {}): Promise<OpenedSocket> {
    const mode = options.mode ?? 'auto';
    const opened = mode === 'datagram' ? this.own(options) : await this.raw(options);
    if (receiveBuffer) raiseReceiveBuffer(opened.socket);
    return opened;
  }

  private own(options: SocketOptions): OpenedSocket {
    try {
      const socket = createSocket(options);
      return { socket, via: socket.mode === 'raw' ? 'raw' : 'datagram' };
    } catch (error) {
      if (options.namespace !== undefined && refused(error)) throw namespaceRefused(error, options.namespace);
      throw toWorkbenchError(error);
    }
  }

  private async raw(options: SocketOptions): Promise<OpenedSocket> {
    let ownError: unknown;
    try {
      const socket = createSocket({ ...options, mode: 'raw' });
      return { socket, via: 'raw' };
    } catch (error) {
      if (!refused(error)) throw toWorkbenchError(error);
      ownError = error;
    }
    const family = options.addressFamily === 2 ? 'ipv6' : 'ipv4';
    const protocol = options.protocol ?? 0;
    const name = helperProtocol(family, protocol);
    if (options.namespace !== undefined) return this.helperInNamespace(options, options.namespace, family, name, ownError);
    if (name !== null && (this.helper.running || (await this.helper.startInstalled()))) {
      const { mode: _mode, addressFamily: _family, protocol: _protocol, ...rest } = options;
      const socket = await this.helper.openSocket({ family, protocol: name }, rest);
      return { socket, via: 'helper' };
    }
    if ((options.mode ?? 'auto') === 'auto') {
      const icmp = (family === 'ipv4' && protocol === 1) || (family === 'ipv6' && protocol === 58);
      if (icmp) {
        try {
          const socket = createSocket({ ...options, mode: 'datagram' });
          return { socket, via: 'datagram' };
        } catch {
          // Both refused: the raw refusal explains both (the library's remedy names ping_group_range).
        }
      }
    }
    const failure = toWorkbenchError(ownError);
    const helperNote =
      name === null
        ? ` The socket helper opens only ICMP, ICMPv6, UDP, TCP and raw IP (255) sockets, not protocol ${protocol}.`
        : ` ${HELPER_REMEDY}`;
    throw new WorkbenchError(failure.code, `${failure.message}${helperNote}`, failure.field);
  }

  /** Inside a lab host without setns: only a running helper that kept CAP_SYS_ADMIN (started with namespaces) can. */
  private async helperInNamespace(options: SocketOptions, namespace: string, family: 'ipv4' | 'ipv6', name: HelperOpenRequest['protocol'] | null, ownError: unknown): Promise<OpenedSocket> {
    if (name === null || !this.helper.running || !this.helper.status().capabilities.includes('sys_admin')) throw namespaceRefused(ownError, namespace);
    const { mode: _mode, addressFamily: _family, protocol: _protocol, namespace: _namespace, ...rest } = options;
    const socket = await this.helper.openSocket({ family, protocol: name, namespace }, rest);
    return { socket, via: 'helper' };
  }
}
