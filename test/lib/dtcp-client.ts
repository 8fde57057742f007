/**
 * A DTCP client for the tests, kept apart from the server code: it speaks the DTCP lines
 * (greeting, `tunnel <user> <digest> <type>`, `ping` every interval) and builds its side of
 * the 6in4 tunnel in user space, since the test kernels have no `sit` driver: a TUN device
 * carries the inner IPv6 packets, and a raw IPv4 protocol-41 socket bound to the local and
 * connected to the remote address carries the outer ones. The kernel builds the outer
 * header (DF, TTL 64, protocol 41, the bound source): byte for byte what
 * `ip link add … type sit local L remote R ttl 64` puts on the wire, but for the IPv4
 * identification, which with DF set may be anything (RFC 6864: sit hashes one, a connected
 * raw socket counts).
 *
 * Run inside a network namespace with Node 24 (types stripped, no build step):
 *   node test/lib/dtcp-client.ts --server 198.18.5.1 --port 20200 --user u --password-file pw --type host
 *   node test/lib/dtcp-client.ts --local 198.18.5.10 --remote 198.18.5.1 --addr fd00:e1::5/128   (no DTCP: a static tunnel)
 * Options: --local (with --server: the local IPv4 when it is not the reply's, behind a NAT),
 * --ifname (default sit0), --mtu (default 1280), --route CIDR (repeatable; default ::/0
 * when any address is set), --addr CIDR (repeatable: extra addresses on the TUN), --ping SECONDS
 * (DTCP keepalive, default 60). One JSON line per event on stdout: "tunnel up" (the reply's
 * fields), "dtcp closed", "error". Ends on SIGTERM or when the DTCP connection closes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { Proto41Socket, TunTapDevice } from '@elink/tuntap';

const { values: opt } = parseArgs({
  options: {
    server: { type: 'string' },
    port: { type: 'string', default: '20200' },
    user: { type: 'string' },
    'password-file': { type: 'string' },
    type: { type: 'string', default: 'host' },
    local: { type: 'string' },
    remote: { type: 'string' },
    ifname: { type: 'string', default: 'sit0' },
    mtu: { type: 'string', default: '1280' },
    route: { type: 'string', multiple: true, default: [] },
    addr: { type: 'string', multiple: true, default: [] },
    ping: { type: 'string', default: '60' },
  },
});

function say(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ msg, ...fields })}\n`);
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

interface Reply {
  clientV4: string;
  serverV4: string;
  clientV6?: string;
  serverV6?: string;
  prefix?: string;
}

/** Reads `\r\n`-terminated lines from the DTCP connection, one at a time. */
function lineReader(sock: Socket): () => Promise<string> {
  let buf = '';
  const waiting: ((line: string) => void)[] = [];
  const lines: string[] = [];
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  return () => {
    const l = lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      waiting.push(resolve);
      sock.once('close', () => reject(new Error('the DTCP connection closed')));
    });
  };
}

async function dtcp(): Promise<{ reply: Reply; sock: Socket }> {
  const sock = connect({ host: opt.server!, port: Number(opt.port) });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const next = lineReader(sock);
  const greeting = await next();
  const challenge = /^\+OK (\S+)/.exec(greeting)?.[1];
  if (!challenge) throw new Error(`unexpected greeting ${JSON.stringify(greeting)}`);
  const password = readFileSync(opt['password-file']!, 'utf8').replace(/\r?\n$/, '');
  const digest = createHash('md5').update(opt.user! + challenge + password).digest('hex');
  sock.write(`tunnel ${opt.user} ${digest} ${opt.type}\r\n`);
  const line = await next();
  const f = line.split(' ');
  if (f[0] !== '+OK' || f.length < 3) throw new Error(`tunnel refused: ${line}`);
  const reply: Reply = { clientV4: f[1], serverV4: f[2] };
  if (opt.type === 'host') {
    reply.clientV6 = f[3];
    reply.serverV6 = f[4];
  } else if (opt.type === 'network' || opt.type === 'tunnelroute') reply.prefix = f[3];
  // Keepalive as the KAME client did; replies are read and ignored.
  const timer = setInterval(() => sock.write('ping\r\n'), Number(opt.ping) * 1000);
  timer.unref();
  sock.on('data', () => {});
  return { reply, sock };
}

async function main(): Promise<void> {
  let reply: Reply;
  let sock: Socket | undefined;
  if (opt.server) ({ reply, sock } = await dtcp());
  else if (opt.local && opt.remote) reply = { clientV4: opt.local, serverV4: opt.remote };
  else throw new Error('give --server (DTCP) or --local and --remote (a static tunnel)');

  const tun = TunTapDevice.open({ mode: 'tun', name: opt.ifname!, mtu: Number(opt.mtu), up: true, reuseBuffers: true });
  const raw = Proto41Socket.open(
    // Behind a NAT the local address is not the reply's client IPv4: --local names it.
    { local: opt.local ?? reply.clientV4, remote: reply.serverV4 },
    (slab, meta, count) => {
      const packets: Buffer[] = [];
      for (let i = 0; i < count; i++) packets.push(slab.subarray(meta[4 * i], meta[4 * i] + meta[4 * i + 1]));
      tun.writeMany(packets);
    },
    (err) => say('error', { err: err.message }),
  );
  tun.on('packets', (packets: Buffer[]) => {
    raw.sendMany(packets, 0, 0);
  });
  tun.on('error', (err) => say('error', { err: err.message }));

  const addrs = [...opt.addr!];
  if (reply.clientV6) {
    // The reply's /128 pair, as the KAME client configured its gif/sit: a point-to-point link.
    ip('-6', 'addr', 'add', `${reply.clientV6}/128`, 'peer', `${reply.serverV6}/128`, 'dev', tun.name, 'nodad');
  }
  for (const a of addrs) ip('-6', 'addr', 'add', a, 'dev', tun.name, 'nodad');
  const routes = opt.route!.length > 0 ? opt.route! : reply.clientV6 || addrs.length > 0 || reply.prefix ? ['::/0'] : [];
  for (const r of routes) ip('-6', 'route', 'replace', r, 'dev', tun.name);
  say('tunnel up', { ...reply, ifname: tun.name });

  const stop = (why: string) => {
    say(why, raw.stats as unknown as Record<string, unknown>);
    raw.close();
    tun.close();
    sock?.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('stopped'));
  sock?.on('close', () => stop('dtcp closed'));
}

main().catch((e: unknown) => {
  say('error', { err: (e as Error).message });
  process.exit(2);
});
