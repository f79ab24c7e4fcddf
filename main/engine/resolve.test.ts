import { describe, expect, it } from 'vitest';
import { validateParams } from '../../common/validate';
import { resolveHost } from './resolve';

describe('resolveHost', () => {
  it('resolves localhost through the system resolver, per family', async () => {
    expect(await resolveHost({ name: 'localhost', family: 'ipv4' })).toEqual({ name: 'localhost', address: '127.0.0.1', family: 'ipv4' });
    const any = await resolveHost({ name: 'localhost' });
    expect(['127.0.0.1', '::1']).toContain(any.address);
  });

  it('gives a literal back in its canonical form, and refuses one of the other family', async () => {
    expect(await resolveHost({ name: '0:0::1' })).toEqual({ name: '0:0::1', address: '::1', family: 'ipv6' });
    await expect(resolveHost({ name: '127.0.0.1', family: 'ipv6' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(resolveHost({ name: '300.1.1.1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: "'300.1.1.1' is not an IPv4 or IPv6 address" });
  });

  it('the contract refuses what cannot be a host name before any lookup', () => {
    expect(() => validateParams('resolveHost', { name: 'local host' })).toThrow(/host name/);
    expect(() => validateParams('resolveHost', { name: '' })).toThrow();
    expect(validateParams('resolveHost', { name: 'localhost' })).toEqual({ name: 'localhost' });
  });
});
