// Builds the preload into one CommonJS file: a sandboxed preload may require only
// 'electron' and a few built-ins, so the contract (and zod) are bundled in.
//   npx vite build --config preload/vite.config.mts   ->  dist/preload/preload.bundle.js
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist/preload',
    emptyOutDir: false,
    target: 'chrome140',
    minify: false,
    sourcemap: false,
    copyPublicDir: false,
    lib: {
      entry: fileURLToPath(new URL('./preload.ts', import.meta.url)),
      formats: ['cjs'],
      fileName: () => 'preload.bundle.js',
    },
    rolldownOptions: {
      external: ['electron'],
    },
  },
});
