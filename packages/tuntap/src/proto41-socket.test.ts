import { afterEach, describe, expect, it } from 'vitest';
import { ipv4Number, ipv4Text, Proto41Socket } from './proto41-socket.js';
import { kernelSkipReason } from './test-support.js';

/** An IPv6 packet (header + payload) with a recognisable payload. */
function ipv6Packet(tag: number, payloadLength = 16): Buffer {
  const p = Buffer.alloc(40 + payloadLength);
  p[0] = 0x60;
  p.writeUInt16BE(payloadLength, 4);
  p[6] = 59; // no next header
  p[7] = 64;
  p[8] = 0xfd;
  p[24] = 0xfd;
  for (let i = 40; i < p.length; i++) p[i] = (tag + i) & 0xff;
  return p;
}

interface Got {
  packet: Buffer;
  src: string;
  dst: string;
}

function collector(): { got: Got[]; handler: (slab: Buffer, meta: Uint32Array, count: number) => void } {
  const got: Got[] = [];
  return {
    got,
    handler: (slab, meta, count) => {
      for (let i = 0; i < count; i++) {
        const o = meta[4 * i];
        got.push({ packet: Buffer.from(slab.subarray(o, o + meta[4 * i + 1])), src: ipv4Text(meta[4 * i + 2]), dst: ipv4Text(meta[4 * i + 3]) });
      }
    },
  };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

// Loopback addresses of their own: raw sockets of the namespace see every protocol-41 packet,
// and these are matched by address so nothing else on the host is mistaken for ours.
const A = '127.0.41.1';
const B = '127.0.41.2';

describe.skipIf(kernelSkipReason !== undefined)('Proto41Socket on the real kernel', () => {
  const open: Proto41Socket[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it('carries IPv6 packets in IPv4 protocol 41 both ways: per-batch source and destination, and a connected peer', async () => {
    const a = collector();
    const b = collector();
    const server = Proto41Socket.open({}, a.handler, (e) => a.got.push({ packet: Buffer.alloc(0), src: e.message, dst: '' }));
    open.push(server);
    const client = Proto41Socket.open({ local: B, remote: A }, b.handler, () => {});
    open.push(client);

    const out = [ipv6Packet(1), ipv6Packet(2, 1200), ipv6Packet(3)];
    expect(server.sendMany(out, ipv4Number(B), ipv4Number(A))).toBe(3);
    await until(() => b.got.length >= 3);
    expect(b.got.map((g) => [g.src, g.dst])).toEqual([
      [A, B],
      [A, B],
      [A, B],
    ]);
    expect(b.got.map((g) => g.packet)).toEqual(out);

    // The connected client sends to its peer with dst 0; the unconnected socket sees it (and its own sends too: filter by source).
    expect(client.sendMany([ipv6Packet(9)], 0, 0)).toBe(1);
    await until(() => a.got.some((g) => g.src === B));
    const back = a.got.filter((g) => g.src === B);
    expect(back).toHaveLength(1);
    expect(back[0].dst).toBe(A);
    expect(back[0].packet).toEqual(ipv6Packet(9));
    expect(client.stats.txPackets).toBe(1);
    expect(server.stats.txPackets).toBe(3);
  });

  it('counts what is not IPv6 inside as rxBad and hands it to nobody', async () => {
    const b = collector();
    const client = Proto41Socket.open({ local: B, remote: A }, b.handler, () => {});
    open.push(client);
    const sender = Proto41Socket.open({}, () => {}, () => {});
    open.push(sender);
    // Shorter than an IPv6 header: the receiver's check drops it.
    expect(sender.sendMany([Buffer.alloc(12, 0x60)], ipv4Number(B), ipv4Number(A))).toBe(1);
    await until(() => client.stats.rxBad >= 1);
    expect(client.stats.rxBad).toBe(1);
    expect(b.got).toHaveLength(0);
  });

  it('refuses a local address that is not on this host (EL_ERR_TUNTAP) and ipv4Number refuses non-IPv4', () => {
    expect(() => Proto41Socket.open({ local: '198.51.100.77' }, () => {}, () => {})).toThrow(/EADDRNOTAVAIL|Cannot assign|not available/i);
    expect(() => ipv4Number('fd00::1')).toThrow(TypeError);
    expect(ipv4Text(ipv4Number('198.18.0.1'))).toBe('198.18.0.1');
  });
});
