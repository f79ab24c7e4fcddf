// The engine's filter helpers: which sockets see the engine's own endpoints, how that is
// ANDed onto a user's filter, and how a refused filter becomes an error of its field.
import { describe, expect, it } from 'vitest';
import { compileFilter } from '@packet-workbench/raw-socket';
import { WorkbenchError } from '../../common/validate';
import { asFilterError, checkFilter, kernelFilter, OwnTraffic } from './filters';

describe('OwnTraffic', () => {
  it('hides an IPv4 TCP endpoint from IPv4 raw TCP sockets and packet sockets only, until removed', () => {
    const own = new OwnTraffic();
    expect(own.excludedFrom({ family: 'ipv4', protocol: 6, mode: 'raw' })).toBeNull();
    const remove = own.add({ protocol: 'tcp', address: '127.0.0.1', port: 47801 });
    expect(own.excludedFrom({ family: 'ipv4', protocol: 6, mode: 'raw' })).toBe('tcp port 47801 and host 127.0.0.1');
    expect(own.excludedFrom({ family: 'ipv4', protocol: 0, mode: 'packet' })).toBe('tcp port 47801 and host 127.0.0.1');
    for (const kind of [{ family: 'ipv4', protocol: 17, mode: 'raw' }, { family: 'ipv6', protocol: 6, mode: 'raw' }, { family: 'ipv4', protocol: 1, mode: 'datagram' }] as const) {
      expect(own.excludedFrom(kind)).toBeNull();
    }
    const second = own.add({ protocol: 'tcp', address: '::1', port: 8080 });
    expect(own.excludedFrom({ family: 'ipv6', protocol: 6, mode: 'raw' })).toBe('tcp port 8080 and host ::1');
    const both = own.excludedFrom({ family: 'ipv4', protocol: 0, mode: 'packet' }) as string;
    expect(both).toBe('(tcp port 47801 and host 127.0.0.1) or (tcp port 8080 and host ::1)');
    expect(() => compileFilter(kernelFilter('tcp', both) as string)).not.toThrow();
    remove();
    remove();
    second();
    expect(own.excludedFrom({ family: 'ipv4', protocol: 0, mode: 'packet' })).toBeNull();
  });
});

describe('kernelFilter', () => {
  it("ANDs the exclusion onto the user's filter, parenthesized so 'or' keeps its meaning", () => {
    expect(kernelFilter(null, null)).toBeNull();
    expect(kernelFilter('udp', null)).toBe('udp');
    expect(kernelFilter(null, 'tcp port 1 and host 127.0.0.1')).toBe('not (tcp port 1 and host 127.0.0.1)');
    expect(kernelFilter('icmp or tcp', 'tcp port 1 and host 127.0.0.1')).toBe('(icmp or tcp) and not (tcp port 1 and host 127.0.0.1)');
  });
});

describe('checkFilter', () => {
  it("trims, treats '' as none, and turns libpcap's refusals into INVALID_ARGUMENT errors of the field", () => {
    expect(checkFilter(undefined)).toBeNull();
    expect(checkFilter(null)).toBeNull();
    expect(checkFilter('  ')).toBeNull();
    expect(checkFilter(' icmp ')).toBe('icmp');
    expect(() => checkFilter('icmp and', 'filter')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'filter', message: expect.stringContaining('position 8') }));
    const error = asFilterError(Object.assign(new Error('Capture filters need libpcap'), { code: 'ERR_LIBPCAP_MISSING' }), 'filter');
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error).toMatchObject({ code: 'ERR_LIBPCAP_MISSING', field: 'filter' });
    const other = new Error('EPERM');
    expect(asFilterError(other)).toBe(other);
  });
});
