import { defineConfig } from 'vite';

// Static assets for the broker to serve at /console: hashed file names under assets/ (cached
// for a year), one index.html (revalidated). Nothing is inlined into the HTML, so the broker's
// Content-Security-Policy needs no 'unsafe-inline'; nothing is loaded from another origin.
export default defineConfig({
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No data: URIs for assets: every file is its own request under the CSP's 'self'.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
