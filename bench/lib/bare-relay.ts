/**
 * A bare relay (issue 14, step 4): about the least a TAP VPN on Node can do, to measure
 * what a cheaper carrier or fewer hops would give before building either. No EL logic:
 * a client reads its TAP (the @elink/tuntap addon, one call per wake-up) and writes each
 * wake-up's frames, each behind a 2-byte length, with one socket.write(); what arrives is
 * cut into frames and written with one writeMany() per read. The hub copies every chunk
 * of one connection to the other as it is (no parsing, no switching). Carriers: TLS
 * (node:tls, as EL) or plain TCP (node:net); topologies: through the hub in the server's
 * namespace (as EL: two client hops and one hub hop each way) or direct (client 2 dials
 * client 1: no middle hop).
 *
 * As a process:  bare-relay.js hub PORT tls|tcp DIR
 *                bare-relay.js client HOST PORT tls|tcp DIR ADDRESS/PREFIX
 *                bare-relay.js listen PORT tls|tcp DIR ADDRESS/PREFIX
 * (DIR holds cert.pem and key.pem for TLS). Each prints "relay ready" once serving.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createServer as netServer, connect as netConnect, type Socket } from 'node:net';
import { createServer as tlsServer, connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { TunTapDevice } from '@elink/tuntap';
import { daemon, must, type Daemon } from './proc.js';
import type { RunningSystem, SystemDef } from './system.js';
import type { Topology } from './topology.js';

export const RELAY_PORT = 7441;
const SELF = fileURLToPath(import.meta.url);

type Carrier = 'tls' | 'tcp';

function tlsFiles(dir: string): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
}

function listen(port: number, carrier: Carrier, dir: string, onConn: (s: Socket) => void): void {
  const server = carrier === 'tls' ? tlsServer(tlsFiles(dir), onConn) : netServer(onConn);
  server.listen(port, () => process.stdout.write('relay ready\n'));
}

function dial(host: string, port: number, carrier: Carrier, dir: string, onUp: (s: Socket) => void): void {
  if (carrier === 'tls') {
    const s = tlsConnect({ host, port, ca: tlsFiles(dir).cert, checkServerIdentity: () => undefined }, () => onUp(s));
  } else {
    const s = netConnect({ host, port }, () => onUp(s));
  }
}

/** Frames of the TAP to `s` and back; bounded: a frame is at most 64 KiB by its length field. */
function bridgeTap(s: Socket, cidr: string): void {
  s.setNoDelay(true);
  const tap = TunTapDevice.open({ mode: 'tap', name: 'rl0', up: true, reuseBuffers: true });
  must('ip', ['addr', 'add', cidr, 'dev', tap.name]);
  const out = Buffer.allocUnsafe(64 * 66_000);
  tap.on('packets', (packets) => {
    let off = 0;
    for (const p of packets) {
      out.writeUInt16BE(p.length, off);
      out.set(p, off + 2);
      off += 2 + p.length;
    }
    s.write(Buffer.from(out.subarray(0, off)));
  });
  let carry: Buffer | undefined;
  const frames: Buffer[] = [];
  s.on('data', (chunk: Buffer) => {
    const b = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = undefined;
    let off = 0;
    while (b.length - off >= 2) {
      const n = b.readUInt16BE(off);
      if (b.length - off - 2 < n) break;
      frames.push(b.subarray(off + 2, off + 2 + n));
      off += 2 + n;
    }
    if (off < b.length) carry = Buffer.from(b.subarray(off));
    if (frames.length > 0) tap.writeMany(frames);
    frames.length = 0;
  });
  s.on('close', () => process.exit(0));
  process.stdout.write('relay ready\n');
}

function main(argv: string[]): void {
  const [role, a, b, c, d, e] = argv;
  if (role === 'hub') {
    const peers: Socket[] = [];
    listen(Number(a), b as Carrier, c!, (s) => {
      s.setNoDelay(true);
      peers.push(s);
      s.on('data', (chunk: Buffer) => {
        for (const p of peers) if (p !== s) p.write(chunk);
      });
      s.on('close', () => peers.splice(peers.indexOf(s), 1));
    });
  } else if (role === 'client') {
    dial(a!, Number(b), c as Carrier, d!, (s) => bridgeTap(s, e!));
  } else if (role === 'listen') {
    let taken = false;
    listen(Number(a), b as Carrier, c!, (s) => {
      if (taken) return void s.destroy();
      taken = true;
      bridgeTap(s, d!);
    });
  } else throw new Error(`bare-relay: unknown role ${role}`);
}

/** The relay as a bench system: `direct` = client 2 dials client 1, no hub. Overlay
 * 198.19.99.11 and .12 on `rl0` in the clients' namespaces. */
export function bareRelaySystem(carrier: Carrier, direct: boolean): SystemDef {
  return {
    id: `relay-${direct ? 'direct-' : ''}${carrier}`,
    label: `bare relay, ${carrier === 'tls' ? 'TLS' : 'plain TCP'}${direct ? ', direct' : ''}`,
    async start(topo: Topology, work: string): Promise<RunningSystem> {
      const procs: Daemon[] = [];
      const stop = async () => {
        for (const p of procs.reverse()) await p.stop();
      };
      try {
        if (carrier === 'tls') {
          const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=relay', '-days', '1', '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem')], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
        }
        const [c1, c2] = topo.clients;
        const node = (ns: string, args: string[]): Daemon => {
          const p = daemon(process.execPath, [SELF, ...args], { ns });
          procs.push(p);
          return p;
        };
        if (direct) {
          await node(c1.ns, ['listen', String(RELAY_PORT), carrier, work, '198.19.99.11/24']).waitFor(/relay ready/, 10_000, 'relay listener');
          await node(c2.ns, ['client', c1.address, String(RELAY_PORT), carrier, work, '198.19.99.12/24']).waitFor(/relay ready/, 10_000, 'relay client 2');
        } else {
          await node(topo.server.ns, ['hub', String(RELAY_PORT), carrier, work]).waitFor(/relay ready/, 10_000, 'relay hub');
          for (const [i, c] of [c1, c2].entries()) {
            await node(c.ns, ['client', topo.server.address, String(RELAY_PORT), carrier, work, `198.19.99.${11 + i}/24`]).waitFor(/relay ready/, 10_000, `relay client ${i + 1}`);
          }
        }
        return { addresses: ['198.19.99.11', '198.19.99.12'], notes: [`bare relay over ${carrier}${direct ? ', client to client' : ', through a hub'}`], stop };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}

if (process.argv[1] === SELF) main(process.argv.slice(2));
