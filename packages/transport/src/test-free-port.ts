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
 * there); with a range too narrow for that, it falls back to the kernel's choice.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const FIRST = 10_000;
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
    if (await bindable(port)) return port;
  }
  return kernelPort();
}
