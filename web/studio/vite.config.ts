import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Parley Studio's production build: web/studio/ into dist/studio/, served by the server at /studio/. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/studio/',
  plugins: [react()],
  // Warnings are left out; errors still fail `npm run build`.
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/studio/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});
