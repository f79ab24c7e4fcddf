// Host names typed in the GUI (localhost, a lab host) become addresses here, through the
// system resolver, bounded in time so a dead DNS server cannot hang a form.
import { lookup } from 'node:dns/promises';
import type { Params, Result } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, isIpv4, isIpv6, parseIpAddress } from '../../packets/address';

export const RESOLVE_TIMEOUT_MS = 5000;

export async function resolveHost({ name, family }: Params<'resolveHost'>, timeoutMs = RESOLVE_TIMEOUT_MS): Promise<Result<'resolveHost'>> {
  const wanted = family === 'ipv6' ? 'IPv6' : 'IPv4';
  if (isIpv4(name) || isIpv6(name)) {
    const literal = isIpv4(name) ? 'ipv4' : 'ipv6';
    if (family && family !== literal) throw new WorkbenchError('INVALID_ARGUMENT', `'${name}' is not an ${wanted} address`, 'name');
    return { name, address: formatIpAddress(parseIpAddress(name)), family: literal };
  }
  // Digits and dots were meant as an address: do not ask DNS about them.
  if (/^[\d.]+$/.test(name)) throw new WorkbenchError('INVALID_ARGUMENT', `'${name}' is not an IPv4 or IPv6 address`, 'name');
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      lookup(name, { family: family === 'ipv6' ? 6 : family === 'ipv4' ? 4 : 0 }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`the resolver did not answer within ${timeoutMs / 1000} s`), { code: 'ETIMEOUT' })), timeoutMs);
      }),
    ]);
    return { name, address: formatIpAddress(parseIpAddress(found.address)), family: found.family === 6 ? 'ipv6' : 'ipv4' };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOTFOUND' || code === 'EAI_NONAME' || code === 'ENODATA' ? 'no such host' : (error as Error).message;
    throw new WorkbenchError('RESOLVE_FAILED', `Cannot resolve '${name}'${family ? ` to an ${wanted} address` : ''}: ${why}`, 'name');
  } finally {
    if (timer) clearTimeout(timer);
  }
}
