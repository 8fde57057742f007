import { once } from 'node:events';
import { createServer, connect, type Server, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { RecyclingArena, ScratchBuffer, writeBuffer, writesThrough } from './scratch-buffer.js';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';

describe('ScratchBuffer', () => {
  it('hands out the same memory every time, growing up to its maximum', () => {
    const s = new ScratchBuffer(8192, 32768);
    const a = s.take(10);
    const b = s.take(8192);
    expect(a.buffer).toBe(b.buffer);
    // Memory of its own, never a slice of Node's shared pool (64 KiB since Node 24).
    expect(a.buffer.byteLength).toBe(8192);
    expect(a.byteOffset).toBe(b.byteOffset);
    const c = s.take(9000); // grows once
    expect(c.length).toBe(9000);
    expect(c.buffer).not.toBe(a.buffer);
    expect(s.take(16384).buffer).toBe(c.buffer);
    expect(s.take(20000).buffer).not.toBe(c.buffer); // grows again, to the maximum
    const last = s.take(32768);
    const own = s.take(32769); // above the maximum: a buffer of its own
    expect(own.buffer).not.toBe(last.buffer);
    expect(own.buffer).not.toBe(c.buffer);
  });
});

describe('RecyclingArena', () => {
  it('carves non-overlapping, 8-byte aligned pieces until recycle(), then reuses the memory', () => {
    const arena = new RecyclingArena(8192, 2);
    const a = arena.alloc(100);
    const b = arena.alloc(300);
    expect(a.buffer).toBe(b.buffer);
    expect(a.buffer.byteLength).toBe(8192); // a slab of its own, not a slice of Node's pool
    expect(b.byteOffset - a.byteOffset).toBe(104);
    a.fill(1);
    b.fill(2);
    expect(a.every((v) => v === 1)).toBe(true);
    const c = arena.alloc(7900); // does not fit: the second slab
    expect(c.buffer).not.toBe(a.buffer);
    const d = arena.alloc(7900); // a third slab is past keepSlabs: memory of its own
    expect(d.buffer).not.toBe(a.buffer);
    expect(d.buffer).not.toBe(c.buffer);
    expect(arena.alloc(9000).length).toBe(9000); // above the slab size: its own
    arena.recycle();
    const e = arena.alloc(50);
    expect(e.buffer).toBe(a.buffer);
    expect(e.byteOffset).toBe(a.byteOffset);
  });
});

describe('writesThrough on a real TLS socket', () => {
  let server: Server | undefined;
  const sockets: TLSSocket[] = [];
  afterEach(() => {
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    server?.close();
    server = undefined;
  });

  it('is true while nothing is in flight, false from a write until its callback, and the bytes sent are the ones written', async () => {
    const ca = await createCertificateAuthority('scratch test CA');
    const { keyPem: key, certPem: cert } = await issueServerCertificate(ca, ['127.0.0.1']);
    const received: Buffer[] = [];
    server = createServer({ key, cert }, (s) => {
      sockets.push(s);
      s.on('data', (d: Buffer) => received.push(d));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const client = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    sockets.push(client);
    await once(client, 'secureConnect');

    expect(writesThrough(client)).toBe(true);
    // Through: built in the scratch buffer and overwritten right after write() returns;
    // what arrives must still be the first content.
    const first = writeBuffer(4, true);
    expect(first.done).toBeUndefined();
    first.buf.write('abcd');
    const wrote = new Promise<void>((resolve) => client.write(first.buf, () => resolve()));
    first.buf.write('XXXX');
    expect(writesThrough(client)).toBe(false);
    // Not through: a small write gets a slice of Node's pool, a large one a pooled
    // buffer and a callback that gives it back.
    expect(writeBuffer(4, writesThrough(client)).done).toBeUndefined();
    const second = writeBuffer(5000, writesThrough(client));
    expect(second.done).toBeTypeOf('function');
    second.buf.fill(0x2e);
    second.buf.write('efgh');
    client.write(second.buf, second.done);
    await wrote;
    await new Promise<void>((resolve) => client.write(Buffer.alloc(0), () => resolve()));
    expect(writesThrough(client)).toBe(true);
    const deadline = Date.now() + 3000;
    while (Buffer.concat(received).length < 5004 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.concat(received).toString()).toBe('abcdefgh' + '.'.repeat(4996));
    client.cork();
    expect(writesThrough(client)).toBe(false);
    client.uncork();
  });
});
