// @ts-check
// The console's web app: Preact with TypeScript, bundled by Vite into dist/, which
// scripts/local/console-server.cjs serves. JSX goes through Vite's own transform (Preact's runtime).
import { defineConfig } from 'vite';

export default defineConfig({
  root: '.',
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1024 },
});
