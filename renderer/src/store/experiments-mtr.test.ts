import { describe, expect, it } from 'vitest';
import { parseMtrForm, parsePmtuForm } from './experiments';

describe('mtr and path MTU forms', () => {
  it('turn the fields into the contract parameters (ms stay ms)', () => {
    expect(parseMtrForm({ target: ' 198.18.4.2 ', probe: 'udp', cycles: '5', interval: '200', maxHops: '10', timeout: '800' })).toEqual({
      params: { target: '198.18.4.2', probe: 'udp', cycles: 5, intervalMs: 200, maxHops: 10, timeoutMs: 800 },
    });
    expect(parsePmtuForm({ target: 'fd42:0:0:3::2', maxHops: '8', timeout: '1000' })).toEqual({ params: { target: 'fd42:0:0:3::2', maxHops: 8, timeoutMs: 1000 } });
  });

  it('name every wrong field at once, with the bounds of the contract', () => {
    expect(parseMtrForm({ target: '', probe: 'icmp', cycles: '0', interval: '50', maxHops: '65', timeout: 'x' })).toEqual({
      errors: {
        target: 'mtr target is required: an address or a host name such as localhost',
        cycles: 'Cycles must be from 1 to 1000, not 0',
        interval: 'Interval must be from 100 to 10000, not 50',
        maxHops: 'Max hops must be from 1 to 64, not 65',
        timeout: 'Timeout must be a whole number from 10 to 30000',
      },
    });
    expect(parsePmtuForm({ target: 'a b', maxHops: '0', timeout: '10' })).toEqual({
      errors: { target: "Path MTU target 'a b' has a space: type one address or host name", maxHops: 'Max hops must be from 1 to 64, not 0' },
    });
  });
});
