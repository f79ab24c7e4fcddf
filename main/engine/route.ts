// Which local address the kernel picks toward a destination: connect a UDP socket
// (no packet is sent) and read its name. Raw sockets without IP_HDRINCL let the
// kernel write the IP header, but TCP and UDP checksums cover a pseudo header with
// the source address, so the engine needs to know it in advance.
import { createSocket } from 'node:dgram';

const cache = new Map<string, { address: string; at: number }>();
const CACHE_MS = 5_000;
const CACHE_LIMIT = 256;

export function sourceAddressFor(destination: string): Promise<string> {
  const hit = cache.get(destination);
  if (hit && Date.now() - hit.at < CACHE_MS) return Promise.resolve(hit.address);
  const type = destination.includes(':') ? 'udp6' : 'udp4';
  return new Promise((resolve, reject) => {
    const socket = createSocket(type);
    const finish = (error: Error | null, address?: string): void => {
      try {
        socket.close();
      } catch {
        // already closed
      }
      if (error || address === undefined) {
        reject(error ?? new Error(`No route to ${destination}`));
        return;
      }
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(destination, { address, at: Date.now() });
      resolve(address);
    };
    socket.once('error', (error) => finish(error));
    socket.connect(9, destination, () => {
      try {
        finish(null, socket.address().address);
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}
