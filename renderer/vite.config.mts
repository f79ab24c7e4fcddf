// Builds the renderer into renderer/dist with relative URLs, so the same files load from
// file:// in Electron and from the browser host's static server.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { metaContentSecurityPolicy } from '../common/csp';

const root = fileURLToPath(new URL('.', import.meta.url));

// The built page carries its own CSP (the dev server's inline scripts would break under it).
const cspMeta: Plugin = {
  name: 'workbench-csp-meta',
  apply: 'build',
  transformIndexHtml: () => [
    { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: metaContentSecurityPolicy() }, injectTo: 'head-prepend' },
  ],
};

export default defineConfig({
  root,
  base: './',
  plugins: [react(), cspMeta],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1200,
  },
  server: { fs: { allow: ['..'] } },
});
