/**
 * Ports for tests that start a server process on a port chosen beforehand.
 *
 * Why not port 0 and close: a port the kernel hands out for `listen(0)` comes from the
 * ephemeral range (ip_local_port_range, 32768–60999 by default), the range every outbound
 * connection takes its source port from. Between the probe closing it and the server
 * process binding it, any connection on the machine — another test's client, the same
 * test's — may take it, and the server dies at start with EADDRINUSE. So the ports come
 * from below that range, where the kernel never picks a source port, and each test worker
 * process (VITEST_POOL_ID) has a block of its own, so two files running at once never get
 * the same one. A port is still probed before it is handed out (something may listen
 * there); with a range too narrow for that, it falls back to the kernel's choice. Ports
 * that fetch() refuses to reach ("bad port", e.g. 10080) are never handed out: a test
 * reads its servers' /metrics with fetch.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const FIRST = 10_000;

/** The ports fetch() refuses ("bad port"), from https://fetch.spec.whatwg.org/#port-blocking. */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);
const BLOCK = 1_000;

function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

const blocks = Math.floor((ephemeralStart() - FIRST) / BLOCK);
const block = blocks > 0 ? FIRST + ((Number(process.env.VITEST_POOL_ID ?? process.pid) - 1 + blocks) % blocks) * BLOCK : 0;
// Start at a different place in the block for each process, so a worker's next file
// does not probe the ports its previous file's processes may still be closing.
let next = process.pid % BLOCK;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

async function kernelPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '0.0.0.0', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A TCP port free on all addresses a moment ago, outside the kernel's source-port range. */
export async function freePort(): Promise<number> {
  if (block === 0) return kernelPort();
  for (let tries = 0; tries < BLOCK; tries++) {
    const port = block + (next++ % BLOCK);
    if (!FETCH_BLOCKED_PORTS.has(port) && (await bindable(port))) return port;
  }
  return kernelPort();
}
