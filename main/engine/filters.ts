// Capture filters in the engine: a user's expression checked by compiling it (a
// field error naming the position), and the engine's own transports kept out of the
// log. A raw TCP socket sees every TCP packet on the machine, the browser host's
// WebSocket included: each logged packet made event traffic that was logged again
// (~90 rows a second). The host registers its endpoint here; sockets that would see
// it get `not (tcp port P and host A)` ANDed onto their filter, in the kernel.
import { compileFilter } from '@packet-workbench/raw-socket';
import { WorkbenchError } from '../../common/validate';

/** An endpoint the engine itself talks over, e.g. the browser host's listening socket. */
export interface OwnEndpoint {
  protocol: 'tcp';
  address: string;
  port: number;
}

/** What a socket is, as far as the traffic it can see goes. */
export interface SocketKind {
  family: 'ipv4' | 'ipv6';
  /** IP protocol number; ignored for packet sockets. */
  protocol: number;
  mode: 'raw' | 'datagram' | 'packet';
}

/** The user's expression, trimmed; null for none ('' or whitespace). Throws a field error when libpcap refuses it. */
export function checkFilter(expression: string | null | undefined, field = 'filter'): string | null {
  const text = expression?.trim() ?? '';
  if (text === '') return null;
  try {
    compileFilter(text);
  } catch (error) {
    throw asFilterError(error, field);
  }
  return text;
}

/** A filter the library refused (syntax, libpcap's reason, no libpcap) as an error of the field; any other error unchanged. */
export function asFilterError(error: unknown, field = 'filter'): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_LIBPCAP_MISSING') return new WorkbenchError('ERR_LIBPCAP_MISSING', (error as Error).message, field);
  if (code === 'ERR_FILTER_SYNTAX' || code === 'ERR_FILTER_INVALID') return new WorkbenchError('INVALID_ARGUMENT', (error as Error).message, field);
  return error;
}

/** What the kernel runs: the user's filter with the engine's own traffic taken out. */
export function kernelFilter(user: string | null, excluded: string | null): string | null {
  if (excluded === null) return user;
  return user === null ? `not (${excluded})` : `(${user}) and not (${excluded})`;
}

/** The engine's own endpoints, and the filter term that hides them from a kind of socket. */
export class OwnTraffic {
  private readonly endpoints: OwnEndpoint[] = [];

  /** Registers an endpoint; returns the function that removes it again. */
  add(endpoint: OwnEndpoint): () => void {
    const entry = { ...endpoint };
    this.endpoints.push(entry);
    return () => {
      const index = this.endpoints.indexOf(entry);
      if (index >= 0) this.endpoints.splice(index, 1);
    };
  }

  /**
   * The traffic of ours a socket of this kind would see, as a filter expression, or null.
   * Only IP raw sockets of the endpoint's protocol and family, and packet sockets, see it.
   */
  excludedFrom(kind: SocketKind): string | null {
    const terms = this.endpoints
      .filter((endpoint) => {
        const family = endpoint.address.includes(':') ? 'ipv6' : 'ipv4';
        if (kind.mode === 'packet') return true;
        return kind.mode === 'raw' && kind.family === family && kind.protocol === 6;
      })
      .map((endpoint) => `${endpoint.protocol} port ${endpoint.port} and host ${endpoint.address}`);
    const unique = [...new Set(terms)];
    if (unique.length === 0) return null;
    return unique.length === 1 ? unique[0] : unique.map((term) => `(${term})`).join(' or ');
  }
}
