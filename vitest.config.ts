import { defineConfig } from 'vitest/config';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

// Unit tests import sibling packages from source, so they run without a build.
// End-to-end tests drive the built `elink` command (packages/cli/dist), as a user would.
const alias = Object.fromEntries(
  ['protocol', 'pki', 'switch', 'broker', 'client', 'tuntap', 'transport', 'proxy', 'cli', 'stack'].map((p) => [
    `@elink/${p}`,
    fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url)),
  ]),
);

// Vitest's default is one worker per core but one: a single worker on a 2-core machine. A
// unit file spends most of its time waiting (timers, sockets, TLS handshakes, child
// processes): the whole unit run keeps about half of two cores busy with one worker per
// core, so two per core finish it sooner without crowding the CPU.
const unitWorkers = Math.min(2 * availableParallelism(), 8);

/**
 * End-to-end files that may run two at a time: each one's namespaces, devices, underlay /24,
 * ports and state directories are its own (test/lib/netns.ts, freePort), so two share
 * nothing but the CPU, and none of them moves bulk traffic, floods, makes a burst of work
 * against a deadline, or asserts what must hold under load (no ping lost, a keepalive
 * expiring, a rate window). Every other file (a new one too, until it is listed here) runs
 * alone, after these: the 10 MB streams, storms, floods, drains, trunk keepalives, the
 * cluster, 200 logins at once (broker-redis: their 15 s deadline failed beside another
 * file on a machine at load 20), the fd-limit flood (listeners), the user-mode stack's
 * bulk transfers, the benchmarks' smoke run.
 */
const E2E_PAIRED = [
  'test/cli-basics.test.ts',
  'test/client-exit.test.ts',
  'test/client-lifetime.test.ts',
  'test/client-retry-after.test.ts',
  'test/console-api.test.ts',
  'test/console-cluster.test.ts',
  'test/console.test.ts',
  'test/device-key.test.ts',
  'test/dtcp-cluster.test.ts',
  'test/haproxy-cfg.test.ts',
  'test/iad.test.ts',
  'test/lan.test.ts',
  'test/packaging.test.ts',
  'test/proxy-protocol.test.ts',
  'test/proxy.test.ts',
  'test/readme-walkthrough.test.ts',
  'test/reload.test.ts',
];

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
          maxWorkers: unitWorkers,
          sequence: { groupOrder: 0 },
        },
      },
      // `vitest run --project 'e2e-*'` runs both end-to-end projects: two at a time first,
      // then the others one at a time (groupOrder: projects of a group run together).
      {
        test: {
          name: 'e2e-parallel',
          include: E2E_PAIRED,
          testTimeout: 180_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'e2e-serial',
          include: ['test/**/*.test.ts'],
          exclude: E2E_PAIRED,
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
