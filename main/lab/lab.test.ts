// Argument checks of the lab module: none of these needs root or creates anything.
import { describe, expect, it } from 'vitest';
import { createLab, createNamespace, NOBODY, runAsPrefix } from './lab';

describe('lab argument checks', () => {
  it('runAsPrefix drops to the user with no groups and no capabilities', () => {
    expect(runAsPrefix(NOBODY)).toEqual(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all']);
    expect(() => runAsPrefix({ uid: -1, gid: 0 })).toThrow(RangeError);
    expect(() => runAsPrefix({ uid: 1.5, gid: 0 })).toThrow(RangeError);
  });

  it('rejects bad options before creating anything', async () => {
    await expect(createLab({ routers: 99 })).rejects.toThrow(RangeError);
    await expect(createLab({ prefix: '-x' })).rejects.toThrow(/prefix/);
    await expect(createLab({ prefix: 'a b' })).rejects.toThrow(/prefix/);
    await expect(createLab({ sysctls: { 'net.ipv4.ip_forward=1 x': 1 } })).rejects.toThrow(/sysctl name/);
    await expect(createLab({ sysctls: { '-w': 1 } })).rejects.toThrow(/sysctl name/);
    await expect(createLab({ sysctls: { 'net.ipv4.ping_group_range': '0 1\nkernel.x=1' } })).rejects.toThrow(/value/);
    await expect(createLab({ hostSysctls: { router9: { 'net.ipv4.ip_forward': 0 } } })).rejects.toThrow(/unknown host/);
    await expect(createNamespace({ suffix: '../x' })).rejects.toThrow(/suffix/);
  });
});
