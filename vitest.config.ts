import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// Unit tests import sibling packages from source, so they run without a build.
// End-to-end tests drive the built `elink` command (packages/cli/dist), as a user would.
const alias = Object.fromEntries(
  ['protocol', 'pki', 'switch', 'broker', 'client', 'tuntap', 'transport', 'proxy', 'cli', 'stack'].map((p) => [
    `@elink/${p}`,
    fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url)),
  ]),
);

export default defineConfig({
  test: {
    reporters: ['default', './scripts/vitest-summary.ts'],
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          // .tsx: the console's components (a DOM per file: `@vitest-environment happy-dom`).
          include: ['packages/*/src/**/*.test.ts', 'packages/*/src/**/*.test.tsx'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // The end-to-end files share the host's network stack and CPU: run them one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
