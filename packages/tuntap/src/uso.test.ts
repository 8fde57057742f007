/**
 * USO (UDP segmentation offload, TUN_F_USO4 | TUN_F_USO6, Linux >= 6.2) on the real
 * kernel: an offload TAP and an offload TUN in a network namespace of their own.
 *
 * - Write: a UDP super-frame made with coalesceUdp from 16 datagrams built as a kernel
 *   hands them to an offload device is split by the kernel into the 16 datagrams, which a
 *   real UDP socket (node:dgram, in a child process in the namespace) receives in order.
 *   Local delivery does not verify a checksum still to be completed, so the same
 *   super-frames are also forwarded out of a plain TUN (no offload): there the kernel
 *   completes each datagram's checksum from the pseudo-header sum written, and we check it.
 * - Read: a local sender with UDP_SEGMENT (python3: Node's dgram cannot set it) makes the
 *   kernel hand the device one UDP super-frame (gso_type UDP_L4), which softwareSegment
 *   splits into the datagrams sent, each with a UDP checksum that verifies.
 */
import { spawn, execFile, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { release } from 'node:os';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  coalesceUdp,
  macBytes,
  parseMac,
  gsoSegmentCount,
  readVnetHdr,
  softwareSegment,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_UDP_L4,
  VNET_HDR_LENGTH,
} from '@elink/protocol';
import { TunTapDevice } from './device.js';
import { internetChecksum, udpDatagram } from '../../protocol/src/test-datagrams.js';
import { ipv6Bytes } from '../../proxy/src/socks5-codec.js';
import { collectUntil, ip, ipv4Bytes, kernelSkipReason, uniqueName } from './test-support.js';

// elt<pid>_…: test/lib/netns.ts reapStale() removes it if this run crashes.
const NS = `elt${process.pid}_uso`;
const TAP_MAC = '02:e1:00:00:f6:01';
const PEER_MAC = '02:e1:00:00:f6:02';
const TAP = { v4: '198.19.246.1', peer4: '198.19.246.2', v6: 'fd00:e1:f6::1', peer6: 'fd00:e1:f6::2' };
const TUN = { v4: '198.19.245.1', peer4: '198.19.245.2', v6: 'fd00:e1:f5::1', peer6: 'fd00:e1:f5::2' };
/** A plain TUN the namespace routes to: what is forwarded there is split and checksummed by the kernel. */
const OUT = { v4: '198.19.244.1', peer4: '198.19.244.2', v6: 'fd00:e1:f4::1', peer6: 'fd00:e1:f4::2' };
const RECV_PORT = 5000;
const SEGMENTS = 16;
const SIZE = 200; // payload bytes per datagram; the last one is shorter
const LAST = 77;
const WAIT_MS = 3000;

const [major, minor] = release().split('.').map(Number);
const kernelHasUso = major > 6 || (major === 6 && minor >= 2);

/** The receiver: one dual-stack UDP socket; a line "port hex" per datagram. Exits when stdin closes. */
const RECEIVER = `
const s = require('node:dgram').createSocket({ type: 'udp6', ipv6Only: false });
s.on('message', (m, r) => process.stdout.write(r.port + ' ' + m.toString('hex') + '\\n'));
s.bind(${RECV_PORT}, '::', () => process.stdout.write('ready\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();`;

/** Datagram k of a flow: distinct bytes per flow and per datagram. */
function payloadOf(sport: number, k: number): Buffer {
  const p = Buffer.alloc(k === SEGMENTS - 1 ? LAST : SIZE);
  for (let i = 0; i < p.length; i++) p[i] = (sport * 13 + k * 31 + i) & 0xff;
  return p;
}

interface Flow {
  l2: boolean;
  v6: boolean;
  src: string;
  dst: string;
  sport: number;
}

/** One datagram of `f` as the kernel hands it to an offload device for a local UDP sender
 * (NEEDS_CSUM at the UDP checksum, which holds the pseudo-header sum); IPv4 id `id`. */
function vnetDatagram(f: Flow, payload: Buffer, id: number): Buffer {
  const addr = (a: string) => (f.v6 ? ipv6Bytes(a)! : ipv4Bytes(a));
  return udpDatagram({
    l2: f.l2,
    v6: f.v6,
    ...(f.l2 ? { dstMac: macBytes(parseMac(TAP_MAC)), srcMac: macBytes(parseMac(PEER_MAC)) } : {}),
    srcIp: addr(f.src),
    dstIp: addr(f.dst),
    srcPort: f.sport,
    dstPort: RECV_PORT,
    payload,
    id,
  });
}

/** A plain IPv4/IPv6 UDP packet (L3, or after an Ethernet header): its UDP checksum verifies. */
function udpChecksumOk(frame: Buffer, l2: boolean): boolean {
  const ipAt = l2 ? 14 : 0;
  const v6 = frame[ipAt] >> 4 === 6;
  const udpAt = ipAt + (v6 ? 40 : 20);
  const udp = frame.subarray(udpAt);
  const addrs = v6 ? frame.subarray(ipAt + 8, ipAt + 40) : frame.subarray(ipAt + 12, ipAt + 20);
  const all = Buffer.concat([addrs, Buffer.from([0, 17, udp.length >> 8, udp.length & 0xff]), udp]);
  return udp.readUInt16BE(6) !== 0 && internetChecksum(all) === 0;
}

/** The UDP source port of an IPv4/IPv6 packet (L3), or -1. */
function sourcePort(p: Buffer): number {
  const v6 = p[0] >> 4 === 6;
  const udpAt = v6 ? 40 : 20;
  return p.length >= udpAt + 8 && p[v6 ? 6 : 9] === 17 ? p.readUInt16BE(udpAt) : -1;
}

describe.skipIf(kernelSkipReason !== undefined)(`USO on the real kernel${kernelSkipReason ? ` (skipped: ${kernelSkipReason})` : ''}`, () => {
  let tap: TunTapDevice | undefined;
  let tun: TunTapDevice | undefined;
  let out: TunTapDevice | undefined;
  let receiver: ChildProcessWithoutNullStreams | undefined;
  const lines: string[] = [];
  let onLine: (() => void) | undefined;

  /** The datagrams the receiver got from source port `sport`, once there are `n`, or rejects after WAIT_MS. */
  function received(sport: number, n: number): Promise<Buffer[]> {
    const pick = () => lines.filter((l) => l.startsWith(`${sport} `)).map((l) => Buffer.from(l.slice(l.indexOf(' ') + 1), 'hex'));
    return new Promise((resolve, reject) => {
      const check = () => {
        const got = pick();
        if (got.length < n) return;
        clearTimeout(timer);
        onLine = undefined;
        resolve(got);
      };
      const timer = setTimeout(() => {
        onLine = undefined;
        reject(new Error(`timed out after ${WAIT_MS} ms: ${pick().length} of ${n} datagrams from port ${sport}`));
      }, WAIT_MS);
      onLine = check;
      check();
    });
  }

  beforeAll(async () => {
    ip('netns', 'add', NS);
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    tap = TunTapDevice.open({ mode: 'tap', name: uniqueName(), mac: TAP_MAC, offload: true });
    tun = TunTapDevice.open({ mode: 'tun', name: uniqueName(), offload: true });
    out = TunTapDevice.open({ mode: 'tun', name: uniqueName() });
    for (const [dev, a] of [
      [tap, TAP],
      [tun, TUN],
      [out, OUT],
    ] as const) {
      ip('link', 'set', 'dev', dev.name, 'netns', NS);
      ip('-n', NS, 'addr', 'add', `${a.v4}/24`, 'dev', dev.name);
      ip('-n', NS, 'addr', 'add', `${a.v6}/64`, 'dev', dev.name, 'nodad');
      ip('-n', NS, 'link', 'set', 'dev', dev.name, 'up');
    }
    // The TAP's peer needs no ARP / neighbour discovery for the read case.
    ip('-n', NS, 'neigh', 'replace', TAP.peer4, 'lladdr', PEER_MAC, 'dev', tap.name, 'nud', 'permanent');
    ip('-n', NS, 'neigh', 'replace', TAP.peer6, 'lladdr', PEER_MAC, 'dev', tap.name, 'nud', 'permanent');
    execFileSync('ip', ['netns', 'exec', NS, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);

    const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', RECEIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
    receiver = child;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the receiver did not bind within ${WAIT_MS} ms: ${stderr}`)), WAIT_MS);
      child.on('exit', (code) => reject(new Error(`the receiver exited ${code}: ${stderr}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line === 'ready') {
          clearTimeout(timer);
          resolve();
        } else {
          lines.push(line);
          onLine?.();
        }
      });
    });
  }, 10_000);

  afterAll(() => {
    receiver?.stdin.end();
    receiver?.kill();
    tap?.close();
    tun?.close();
    out?.close();
    try {
      ip('netns', 'del', NS);
    } catch {
      // already gone
    }
  });

  it(`uso is ${kernelHasUso} (kernel ${release()}) for an offload TAP and TUN, false without offload`, () => {
    expect(tap?.uso).toBe(kernelHasUso);
    expect(tun?.uso).toBe(kernelHasUso);
    for (const mode of ['tap', 'tun'] as const) {
      const plain = TunTapDevice.open({ mode, name: uniqueName() });
      try {
        expect(plain.offload).toBe(false);
        expect(plain.uso).toBe(false);
      } finally {
        plain.close();
      }
    }
  });

  const writeCases = [
    { name: 'TAP (L2) IPv4', l2: true, v6: false, sport: 40001 },
    { name: 'TAP (L2) IPv6', l2: true, v6: true, sport: 40002 },
    { name: 'TUN (L3) IPv4', l2: false, v6: false, sport: 40003 },
    { name: 'TUN (L3) IPv6', l2: false, v6: true, sport: 40004 },
  ];
  it.skipIf(!kernelHasUso).each(writeCases)(
    'a UDP super-frame written to an offload $name reaches a UDP socket as its 16 datagrams',
    async ({ l2, v6, sport }) => {
      const a = l2 ? TAP : TUN;
      const flow: Flow = { l2, v6, src: v6 ? a.peer6 : a.peer4, dst: v6 ? a.v6 : a.v4, sport };
      const payloads = Array.from({ length: SEGMENTS }, (_, k) => payloadOf(sport, k));
      const datagrams = payloads.map((p, k) => vnetDatagram(flow, p, 0x1200 + k));
      const merged = coalesceUdp(datagrams, l2);
      expect(merged).toHaveLength(1);
      expect(merged[0][1]).toBe(VNET_GSO_UDP_L4);
      expect(gsoSegmentCount(merged[0])).toBe(SEGMENTS);

      const arrived = received(sport, SEGMENTS);
      expect((l2 ? tap : tun)?.writeMany(merged)).toBe(1);
      expect(await arrived).toEqual(payloads);
    },
  );

  it.skipIf(!kernelHasUso).each(writeCases)(
    'a UDP super-frame written to an offload $name and forwarded out of a plain TUN leaves as 16 datagrams with good checksums',
    async ({ l2, v6, sport }) => {
      const a = l2 ? TAP : TUN;
      const flow: Flow = { l2, v6, src: v6 ? a.peer6 : a.peer4, dst: v6 ? OUT.peer6 : OUT.peer4, sport: sport + 100 };
      const payloads = Array.from({ length: SEGMENTS }, (_, k) => payloadOf(flow.sport, k));
      const merged = coalesceUdp(
        payloads.map((p, k) => vnetDatagram(flow, p, 0x3400 + k)),
        l2,
      );
      expect(merged).toHaveLength(1);

      const ofFlow = (events: Buffer[][]) => events.flat().filter((p) => sourcePort(p) === flow.sport);
      const forwarded = collectUntil(out!, (events) => ofFlow(events).length >= SEGMENTS, WAIT_MS);
      expect((l2 ? tap : tun)?.writeMany(merged)).toBe(1);
      const packets = ofFlow(await forwarded);
      const udpAt = v6 ? 40 : 20;
      expect(packets.map((p) => p.subarray(udpAt + 8))).toEqual(payloads);
      expect(packets.map((p) => udpChecksumOk(p, false))).toEqual(payloads.map(() => true));
      if (!v6) {
        // The kernel's split numbers the datagrams as coalesceUdp assumed: the first id + 1 each.
        expect(packets.map((p) => p.readUInt16BE(4))).toEqual(payloads.map((_, k) => 0x3400 + k));
        expect(packets.map((p) => internetChecksum(p.subarray(0, 20)))).toEqual(payloads.map(() => 0));
      }
    },
  );

  it.skipIf(!kernelHasUso)('a local UDP_SEGMENT sender makes the kernel hand an offload TAP and TUN one UDP super-frame per send', async () => {
    const sends = [
      { dev: tap, l2: true, v6: false, src: TAP.v4, dst: TAP.peer4, sport: 41001 },
      { dev: tap, l2: true, v6: true, src: TAP.v6, dst: TAP.peer6, sport: 41002 },
      { dev: tun, l2: false, v6: false, src: TUN.v4, dst: TUN.peer4, sport: 41003 },
      { dev: tun, l2: false, v6: true, src: TUN.v6, dst: TUN.peer6, sport: 41004 },
    ];
    // Each send: SEGMENTS datagrams' payloads in one sendto with UDP_SEGMENT = SIZE.
    const py = `
import socket, sys
UDP_SEGMENT = 103
for arg in sys.argv[1:]:
    fam, src, dst, sport, data = arg.split(',')
    s = socket.socket(socket.AF_INET6 if fam == '6' else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, int(sport)))
    s.setsockopt(socket.SOL_UDP, UDP_SEGMENT, ${SIZE})
    s.sendto(bytes.fromhex(data), (dst, ${RECV_PORT}))
    s.close()`;
    const args = sends.map((s) => {
      const data = Buffer.concat(Array.from({ length: SEGMENTS }, (_, k) => payloadOf(s.sport, k))).toString('hex');
      return [s.v6 ? '6' : '4', s.src, s.dst, s.sport, data].join(',');
    });
    /** The packets of the flow from `sport` among a device's reads. */
    const ofFlow = (events: Buffer[][], l2: boolean, sport: number) =>
      events.flat().filter((p) => {
        const ipAt = VNET_HDR_LENGTH + (l2 ? 14 : 0);
        const v6 = p[ipAt] >> 4 === 6;
        const udpAt = ipAt + (v6 ? 40 : 20);
        return p.length > udpAt + 8 && p[ipAt + (v6 ? 6 : 9)] === 17 && p.readUInt16BE(udpAt) === sport;
      });
    const done = (l2: boolean, ports: number[]) => (events: Buffer[][]) => ports.every((port) => ofFlow(events, l2, port).length > 0);
    const tapReads = collectUntil(tap!, done(true, [41001, 41002]), WAIT_MS);
    const tunReads = collectUntil(tun!, done(false, [41003, 41004]), WAIT_MS);
    await new Promise<void>((resolve, reject) =>
      execFile('ip', ['netns', 'exec', NS, 'python3', '-c', py, ...args], { timeout: WAIT_MS }, (err, _out, stderr) =>
        err ? reject(new Error(`the UDP_SEGMENT sender failed: ${err.message} ${stderr}`)) : resolve(),
      ),
    );
    const reads = { tap: await tapReads, tun: await tunReads };

    for (const s of sends) {
      const packets = ofFlow(s.l2 ? reads.tap : reads.tun, s.l2, s.sport);
      expect(packets).toHaveLength(1);
      const superFrame = packets[0];
      const h = readVnetHdr(superFrame);
      expect(h.gsoType).toBe(VNET_GSO_UDP_L4);
      expect(h.gsoSize).toBe(SIZE);
      expect(h.flags & VNET_F_NEEDS_CSUM).toBe(VNET_F_NEEDS_CSUM);
      const frames = softwareSegment(superFrame, s.l2);
      expect(frames).toHaveLength(SEGMENTS);
      const udpAt = (s.l2 ? 14 : 0) + (s.v6 ? 40 : 20);
      expect(frames?.map((f) => f.subarray(udpAt + 8))).toEqual(Array.from({ length: SEGMENTS }, (_, k) => payloadOf(s.sport, k)));
      expect(frames?.every((f) => udpChecksumOk(f, s.l2))).toBe(true);
    }
  });
});
