// Resolving a request path to a file of the built renderer, never outside it.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export type StaticLookup =
  | { kind: 'file'; file: string; size: number; contentType: string }
  | { kind: 'not-found' }
  | { kind: 'forbidden'; reason: string };

/**
 * Maps a URL pathname ('/assets/x.js', still percent-encoded) to a regular file
 * inside `root`. Refuses anything that decodes to a path outside it: '..'
 * segments (also encoded as %2e%2e or with %2f/%5c), NUL bytes, and symbolic
 * links that lead out of the folder.
 */
export async function resolveStaticFile(root: string, pathname: string): Promise<StaticLookup> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { kind: 'forbidden', reason: 'the path is not valid percent-encoding' };
  }
  if (decoded.includes('\0')) return { kind: 'forbidden', reason: 'the path contains a NUL byte' };
  const segments = decoded.split(/[\\/]+/);
  if (segments.some((segment) => segment === '..')) return { kind: 'forbidden', reason: "the path contains '..'" };
  const relative = segments.filter((segment) => segment !== '' && segment !== '.').join(path.sep);

  const base = path.resolve(root);
  const candidate = path.resolve(base, relative || 'index.html');
  if (candidate !== base && !candidate.startsWith(base + path.sep)) {
    return { kind: 'forbidden', reason: 'the path leads outside the renderer folder' };
  }
  let real: string;
  let realBase: string;
  try {
    [real, realBase] = await Promise.all([fs.realpath(candidate), fs.realpath(base)]);
  } catch {
    return { kind: 'not-found' };
  }
  if (real !== realBase && !real.startsWith(realBase + path.sep)) {
    return { kind: 'forbidden', reason: 'the path is a link that leads outside the renderer folder' };
  }
  const stat = await fs.stat(real);
  if (stat.isDirectory()) return resolveStaticFile(root, `${pathname.replace(/\/+$/, '')}/index.html`);
  if (!stat.isFile()) return { kind: 'not-found' };
  return { kind: 'file', file: real, size: stat.size, contentType: contentTypeOf(real) };
}
