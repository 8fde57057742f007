/**
 * Two lwIP instances wired back to back (frames out of one are frames into the other):
 * TCP and UDP on the real wasm module over L2 (Ethernet, ARP, ND) and L3 (raw IP),
 * IPv4 and IPv6, back-pressure, half-close and Node's error codes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { NetStack, type InterfaceConfig } from './net-stack.js';
import { StackServer } from './tcp-server.js';
import { StackSocket } from './tcp-socket.js';
import { StackUdpSocket } from './udp-socket.js';

const stacks: NetStack[] = [];
afterEach(() => {
  for (const s of stacks.splice(0)) s.close();
});

/** Two stacks on one wire; `link` may drop or delay frames. */
function pair(mode: 'l2' | 'l3', link?: (deliver: () => void) => void): [NetStack, NetStack] {
  const cfg = (i: number): InterfaceConfig => ({
    mode,
    mtu: 1400,
    mac: `02:00:5e:00:00:0${i}`,
    ipv4: { address: `198.19.7.${i}/24` },
    ipv6: { address: `fd00:e1:7::${i}/64` },
  });
  let a: NetStack | undefined;
  let b: NetStack | undefined;
  const wire = (to: () => NetStack | undefined) => (frames: Buffer[]) => {
    for (const f of frames) {
      const deliver = () => to()?.input(f);
      if (link) link(deliver);
      else setImmediate(deliver);
    }
  };
  a = new NetStack({ output: wire(() => b) });
  b = new NetStack({ output: wire(() => a) });
  a.configure(cfg(1));
  b.configure(cfg(2));
  stacks.push(a, b);
  return [a, b];
}

function listen(stack: NetStack, port: number, onConn: (s: StackSocket) => void): Promise<StackServer> {
  const server = new StackServer(stack, {}, onConn);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}

function connect(stack: NetStack, host: string, port: number): StackSocket {
  return new StackSocket(stack).connectTo(host, port);
}

function collect(s: StackSocket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve, reject) => {
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('NetStack: two lwIP instances back to back', () => {
  for (const mode of ['l2', 'l3'] as const) {
    for (const [fam, peer] of [
      ['IPv4', '198.19.7.2'],
      ['IPv6', 'fd00:e1:7::2'],
    ] as const) {
      it(`${mode} ${fam}: 2 MB each way byte-exact, addresses as node:net reports them`, async () => {
        const [a, b] = pair(mode);
        const up = randomBytes(2 << 20);
        const down = randomBytes(2 << 20);
        let serverGot: Promise<Buffer> | undefined;
        let accepted: StackSocket | undefined;
        await listen(b, 8080, (s) => {
          accepted = s;
          serverGot = collect(s);
          s.end(down);
        });
        const c = connect(a, peer, 8080);
        const clientGot = collect(c);
        await once(c, 'connect');
        c.end(up);
        expect(sha(await clientGot)).toBe(sha(down));
        expect(sha(await serverGot!)).toBe(sha(up));
        expect(c.remoteAddress).toBe(peer);
        expect(c.remotePort).toBe(8080);
        expect(c.remoteFamily).toBe(fam);
        expect(accepted!.remoteAddress).toBe(fam === 'IPv4' ? '198.19.7.1' : 'fd00:e1:7::1');
        expect(accepted!.localPort).toBe(8080);
      });
    }
  }

  it('a port nobody listens on: ECONNREFUSED', async () => {
    const [a] = pair('l2');
    const c = connect(a, '198.19.7.2', 9);
    const [err] = (await once(c, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('a peer that resets an open connection: ECONNRESET', async () => {
    const [a, b] = pair('l3');
    let server: StackSocket | undefined;
    await listen(b, 7, (s) => {
      server = s;
      s.on('error', () => undefined);
    });
    const c = connect(a, '198.19.7.2', 7);
    await once(c, 'connect');
    // The server side's accept can trail the client's connect under load: wait for it (bounded).
    for (let i = 0; i < 500 && server === undefined; i++) await new Promise((r) => setTimeout(r, 5));
    server!.destroy(new Error('gone'));
    const [err] = (await once(c, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNRESET');
  });

  it('ETIMEDOUT: a SYN nobody answers, and a keepalive that finds the peer gone (lwIP\'s clock run fast)', async () => {
    let now = 0;
    const clock = () => now;
    /** Advances lwIP's clock 250 ms at a time (bounded) until `done()`. */
    const runUntil = async (done: () => boolean, stack: NetStack[]) => {
      for (let i = 0; i < 4000 && !done(); i++) {
        now += 250;
        for (const s of stack) s.flush();
        await new Promise((r) => setImmediate(r));
      }
    };
    // Into a black hole: lwIP retransmits its SYN, then gives up.
    const lone = new NetStack({ output: () => undefined, clock });
    lone.configure({ mode: 'l3', mtu: 1400, ipv4: { address: '198.19.7.1/24' } });
    stacks.push(lone);
    const c = new StackSocket(lone).connectTo('198.19.7.2', 80);
    let err: NodeJS.ErrnoException | undefined;
    c.on('error', (e: NodeJS.ErrnoException) => (err = e));
    await runUntil(() => err !== undefined, [lone]);
    expect(err?.code).toBe('ETIMEDOUT');
    expect(err?.syscall).toBe('connect');
    expect(now).toBeGreaterThan(10_000);

    // Connected, then the wire goes dead: the keepalive (idle 1 s, then lwIP's 9 probes 75 s apart) ends it.
    let cut = false;
    let a: NetStack | undefined;
    let b: NetStack | undefined;
    a = new NetStack({ output: (fs) => void (cut || setImmediate(() => fs.forEach((f) => b!.input(f)))), clock });
    b = new NetStack({ output: (fs) => void (cut || setImmediate(() => fs.forEach((f) => a!.input(f)))), clock });
    a.configure({ mode: 'l3', mtu: 1400, ipv4: { address: '198.19.7.1/24' } });
    b.configure({ mode: 'l3', mtu: 1400, ipv4: { address: '198.19.7.2/24' } });
    stacks.push(a, b);
    await listen(b, 7, (s) => s.on('error', () => undefined));
    const k = connect(a, '198.19.7.2', 7);
    await once(k, 'connect');
    k.setKeepAlive(true, 1000);
    cut = true;
    let kerr: NodeJS.ErrnoException | undefined;
    k.on('error', (e: NodeJS.ErrnoException) => (kerr = e));
    const at = now;
    await runUntil(() => kerr !== undefined, [a, b]);
    expect(kerr?.code).toBe('ETIMEDOUT');
    expect(now - at).toBeGreaterThanOrEqual(1000 + 9 * 75_000);
  });

  it('destroy(): a FIN when everything was read, a reset when data was left unread (as the kernel)', async () => {
    const [a, b] = pair('l2');
    const accepted: StackSocket[] = [];
    await listen(b, 7, (s) => {
      accepted.push(s);
      s.on('error', () => undefined);
    });
    // Read everything, then destroy: the client sees an orderly end.
    const c1 = connect(a, '198.19.7.2', 7);
    const ended = collect(c1);
    await once(c1, 'connect');
    while (accepted.length < 1) await new Promise((r) => setTimeout(r, 5));
    accepted[0].destroy();
    expect((await ended).length).toBe(0);
    // Data the server never read, then destroy: the client gets a reset.
    const c2 = connect(a, '198.19.7.2', 7);
    await once(c2, 'connect');
    while (accepted.length < 2) await new Promise((r) => setTimeout(r, 5));
    accepted[1].pause();
    c2.write(Buffer.alloc(1000, 1));
    while (accepted[1].readableLength === 0) await new Promise((r) => setTimeout(r, 5));
    accepted[1].destroy();
    const [err] = (await once(c2, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNRESET');
  });

  it('half-close: the side that ended still reads (allowHalfOpen)', async () => {
    const [a, b] = pair('l2');
    await listen(b, 7, (s) => {
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => s.end(Buffer.concat(parts).toString().toUpperCase()));
    });
    const c = new StackSocket(a, { allowHalfOpen: true }).connectTo('198.19.7.2', 7);
    const got = collect(c);
    c.end('echo me after the FIN');
    expect((await got).toString()).toBe('ECHO ME AFTER THE FIN');
  });

  it('back-pressure: a reader that stops holds the writer at about one window, then all of it arrives', async () => {
    const [a, b] = pair('l2');
    let server: StackSocket | undefined;
    await listen(b, 7, (s) => {
      server = s;
      s.pause();
    });
    const c = connect(a, '198.19.7.2', 7);
    await once(c, 'connect');
    const total = 8 << 20;
    const data = randomBytes(total);
    let offered = 0;
    // Write as a well-behaved producer does (wait for 'drain'), until 'drain' stops coming.
    for (;;) {
      const ok = c.write(data.subarray(offered, offered + 65536));
      offered += 65536;
      if (offered >= total) break;
      if (!ok) {
        const drained = await Promise.race([once(c, 'drain').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
        if (!drained) break;
      }
    }
    // Stalled well before the end: the receiver holds at most its stream buffer plus one
    // TCP window (512 KiB), the sender its stream buffer plus lwIP's send buffer.
    expect(offered).toBeLessThan(total / 2);
    expect(server!.readableLength).toBeLessThanOrEqual(b.limits.readableHighWaterMark + 512 * 1024 + 65536);
    expect(c.writableNeedDrain).toBe(true);
    const got = collect(server!);
    server!.resume();
    const writeRest = async () => {
      while (offered < total) {
        if (!c.write(data.subarray(offered, offered + 65536))) await once(c, 'drain');
        offered += 65536;
      }
      c.end();
    };
    await writeRest();
    expect(sha(await got)).toBe(sha(data));
  });

  it('UDP: echo over IPv4 and IPv6, rinfo as node:dgram', async () => {
    const [a, b] = pair('l2');
    const echo = new StackUdpSocket(b, 'udp6', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
    await new Promise<void>((r) => echo.bind(5353, () => r()));
    for (const [type, host] of [
      ['udp4', '198.19.7.2'],
      ['udp6', 'fd00:e1:7::2'],
    ] as const) {
      const u = new StackUdpSocket(a, type);
      const got = once(u, 'message') as Promise<[Buffer, { address: string; port: number; family: string }]>;
      u.send(`ping ${type}`, 5353, host);
      const [msg, rinfo] = await got;
      expect(msg.toString()).toBe(`ping ${type}`);
      expect(rinfo.address).toBe(host);
      expect(rinfo.port).toBe(5353);
      u.close();
    }
    echo.close();
  });

  it('1 % loss and reordering on the wire: 2 MB still byte-exact', async () => {
    let n = 0;
    const [a, b] = pair('l2', (deliver) => {
      n++;
      if (n % 100 === 37) return; // 1 % lost
      setTimeout(deliver, n % 10 === 3 ? 3 : 1); // some overtaken
    });
    const data = randomBytes(2 << 20);
    let got: Promise<Buffer> | undefined;
    await listen(b, 7, (s) => {
      got = collect(s);
    });
    const c = connect(a, 'fd00:e1:7::2', 7);
    c.end(data);
    await once(c, 'finish');
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (got) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
    expect(sha(await got!)).toBe(sha(data));
  }, 60_000);

  it('connection limit: beyond maxConnections the listener resets, the stack does not grow', async () => {
    const [a, b] = pair('l3');
    const accepted: StackSocket[] = [];
    await listen(b, 7, (s) => accepted.push(s));
    const max = b.limits.maxConnections;
    const clients: StackSocket[] = [];
    const results: Promise<string>[] = [];
    for (let i = 0; i < max + 10; i++) {
      const c = connect(a, '198.19.7.2', 7);
      clients.push(c);
      c.on('error', () => undefined);
      results.push(new Promise((r) => {
        c.once('connect', () => r('connect'));
        c.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
      }));
      // Limits are per stack: a's outgoing side stays under its own limit too.
      if (a.tcp.size >= a.limits.maxConnections) break;
    }
    await Promise.all(results.slice(0, Math.min(results.length, max)));
    await new Promise((r) => setTimeout(r, 200));
    expect(b.tcp.size).toBeLessThanOrEqual(max);
    expect(accepted.length).toBeLessThanOrEqual(max);
    for (const c of clients) c.destroy();
  });
});
