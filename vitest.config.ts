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
 * End-to-end files that run alone, after the others: they move bulk traffic or floods, or
 * assert what must hold under a load (no ping lost, a keepalive or rate window), or load
 * both cores themselves. Every other end-to-end file runs two at a time: each one's
 * namespaces, devices, underlay /24, ports and state directories are its own
 * (test/lib/netns.ts, freePort), so two never share anything but the CPU.
 */
const E2E_ALONE = [
  'test/bench-smoke.test.ts', // runs the benchmarks
  'test/broker-attack.test.ts', // ≤ 4 % ping loss while the broker is flooded
  'test/cluster.test.ts', // 10 MB streams; not one ping lost while a node is killed
  'test/drain.test.ts', // pings go on across a drain
  'test/dtcp.test.ts', // 10 MB TCP both ways
  'test/l2-hostile-member.test.ts', // storms and floods for seconds; ≤ 4 % ping loss
  'test/l2-segment.test.ts', // bulk traffic
  'test/l3-routing.test.ts', // a packet generator; pings with no loss
  'test/offload.test.ts', // 10 MB streams
  'test/trunk.test.ts', // keepalive expiry of a frozen node, loop detection, 10 MB streams
  'test/websocket-proxy.test.ts', // 10 MB streams through a proxy
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
          include: ['test/**/*.test.ts'],
          exclude: E2E_ALONE,
          testTimeout: 180_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'e2e-serial',
          include: E2E_ALONE,
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
