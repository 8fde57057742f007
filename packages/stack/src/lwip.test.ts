/**
 * The wasm module's contract (no WASI imports, fixed memory), the address helpers, the
 * DNS stub's wire format, and a SYN flood against a listener: bounded by lwIP's pool.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { internetChecksum } from '../../protocol/src/test-datagrams.js';
import { chooseDns, encodeQuery, firstAddress } from './dns.js';
import { ipv4Bytes, ipv6Bytes, ipv6String } from './lwip.js';
import { NetStack } from './net-stack.js';
import { StackServer } from './tcp-server.js';

describe('lwip.wasm', () => {
  it('imports only the glue functions of module "el" (no WASI) and has a fixed memory', () => {
    const mod = new WebAssembly.Module(readFileSync(new URL('../wasm/lwip.wasm', import.meta.url)));
    const imports = WebAssembly.Module.imports(mod);
    expect(new Set(imports.map((i) => i.module))).toEqual(new Set(['el']));
    expect(imports.map((i) => i.name).sort()).toEqual(['accept', 'assert_failed', 'connected', 'err', 'fin', 'now', 'rand', 'recv', 'sent', 'tx', 'udp_recv']);
    // The memory section: initial = maximum (16 MiB = 256 pages): nothing in lwIP can grow it.
    const stack = new NetStack({ output: () => undefined });
    const x = stack.lwip.x as unknown as { memory: WebAssembly.Memory };
    expect(x.memory.buffer.byteLength).toBe(16 << 20);
    expect(() => x.memory.grow(1)).toThrow();
  });
});

describe('addresses', () => {
  it('IPv6 text ↔ bytes as node:net writes them (RFC 5952)', () => {
    for (const a of ['fd00:e1::7', '::', '::1', 'fe80::1:2', 'fd00:e1:90:0:1::', '2001:db8:0:1:1:1:1:1', '::ffff:198.19.0.1']) {
      expect(ipv6String(ipv6Bytes(a))).toBe(a);
    }
    expect(ipv6String(ipv6Bytes('FD00:00E1:0000:0000:0000:0000:0000:0007'))).toBe('fd00:e1::7');
    expect(() => ipv6Bytes('1::2::3')).toThrow();
    expect(() => ipv4Bytes('198.19.0.256')).toThrow();
  });
});

describe('DNS stub', () => {
  it('a query for A, and the first A/AAAA of a reply (with name compression)', () => {
    const q = encodeQuery(0x1234, 'web.lab', 1);
    expect(q.subarray(12).toString('latin1')).toBe('\x03web\x03lab\x00\x00\x01\x00\x01');
    const answer = (type: number, rdata: number[]) =>
      Buffer.concat([Buffer.from([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]), q.subarray(12), Buffer.from([0xc0, 12, 0, type, 0, 1, 0, 0, 0, 60, 0, rdata.length, ...rdata])]);
    expect(firstAddress(answer(1, [198, 19, 0, 53]), 0x1234, 1)).toBe('198.19.0.53');
    expect(firstAddress(answer(28, [0xfd, 0, 0, 0xe1, ...new Array<number>(11).fill(0), 7]), 0x1234, 28)).toBe('fd00:e1::7');
    expect(firstAddress(answer(1, [198, 19, 0, 53]), 0x9999, 1)).toBeUndefined();
  });

  it('servers: given ones win, else those welcome pushed (with its search domains), else none', () => {
    const pushed = { servers: ['198.19.0.53', 'fd00:e1::53'], search: ['lab'] };
    expect(chooseDns(['198.19.9.9'], pushed)).toEqual({ servers: ['198.19.9.9'], search: [], from: 'option' });
    expect(chooseDns(undefined, pushed)).toEqual({ servers: pushed.servers, search: ['lab'], from: 'welcome' });
    expect(chooseDns([], { servers: ['198.19.0.53'] })).toEqual({ servers: ['198.19.0.53'], search: [], from: 'welcome' });
    expect(chooseDns(undefined, undefined)).toEqual({ servers: [], search: [], from: 'none' });
  });
});

function syn(src: number[], srcPort: number, dst: number[], dstPort: number): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(srcPort, 0);
  tcp.writeUInt16BE(dstPort, 2);
  tcp.writeUInt32BE(srcPort * 7919, 4);
  tcp[12] = 5 << 4;
  tcp[13] = 0x02; // SYN
  tcp.writeUInt16BE(65535, 14);
  const pseudo = Buffer.from([...src, ...dst, 0, 6, 0, 20]);
  tcp.writeUInt16BE(internetChecksum(Buffer.concat([pseudo, tcp])), 16);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(40, 2);
  ip[8] = 64;
  ip[9] = 6;
  ip.set(src, 12);
  ip.set(dst, 16);
  ip.writeUInt16BE(internetChecksum(ip), 10);
  return Buffer.concat([ip, tcp]);
}

describe('SYN flood', () => {
  it('5,000 SYNs from 5,000 sources: answered up to the listener\'s backlog, nothing accepted, nothing grows', async () => {
    let synAcks = 0;
    const stack = new NetStack({ output: (frames) => (synAcks += frames.filter((f) => f[9] === 6 && f[33] === 0x12).length) });
    stack.configure({ mode: 'l3', mtu: 1400, ipv4: { address: '198.19.7.2/24' } });
    let accepted = 0;
    const server = new StackServer(stack, {}, () => accepted++);
    await new Promise<void>((r) => server.listen(80, () => r()));
    const heap = process.memoryUsage().heapUsed;
    for (let i = 0; i < 5000; i++) {
      stack.input(syn([198, 19, 7, 10 + (i % 200)], 1024 + i, [198, 19, 7, 2], 80));
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 50));
    // One SYN-ACK per half-open connection: they count against the listener's backlog
    // (limits.acceptBacklog), later SYNs are dropped.
    expect(synAcks).toBe(stack.limits.acceptBacklog);
    expect(accepted).toBe(0);
    expect(stack.tcp.size).toBe(0);
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(32 << 20);
    stack.close();
  });
});
