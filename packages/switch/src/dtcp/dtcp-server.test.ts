/**
 * The DTCP listener on a real SwitchNode over real TCP, with the broker's real DtcpService
 * (users, leases, rate limits in a MemoryStore) called in-process as `elink up` does, and
 * a recording data plane: every reply line exactly, timers, teardown, bounds.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DtcpService, hashPassword, Ipam, MemoryStore, MemoryUserDirectory, RateLimiter, StoreUserDirectory, type RateLimits, type UserRecord } from '@elink/broker';
import { segment, useSwitchHarness, type TestNode } from '../testing/test-node.js';
import { LineClient, RecordingPlane } from '../testing/dtcp-client.js';
import { requireNetnsOrSkip } from '../../../../test/lib/netns.js';
import type { L3Segment } from '../core/l3/l3-segment.js';
import { parsePrefix } from '../core/l3/ip.js';
import type { DtcpAuthority } from './dtcp-authority.js';
import type { DtcpServerOptions } from './dtcp-server.js';

const V6 = segment({ name: 'v6', mode: 'l3', ipv6: { pool: 'fd00:e1::/64' }, delegation: { ipv6: { pool: 'fd00:e1:100::/40', length: 48 } } });
const L2 = segment({ name: 'lan' });
const SECRET = 'phone-secret-1';
const GREETING = /^\+OK [0-9a-f]{32} Emotion Link tunnel server$/;

let users: UserRecord[];
beforeAll(async () => {
  const passwordHash = await hashPassword('unused-password');
  users = [
    { name: 'phone', passwordHash, segments: ['v6'], digestSecret: SECRET },
    { name: 'iad', passwordHash, segments: ['v6'], digestSecret: 'iad-secret-1' },
    { name: 'nosecret', passwordHash, segments: ['v6'] },
    { name: 'elsewhere', passwordHash, segments: ['lan'], digestSecret: SECRET },
    // tunnelonly's static ranges: the IPv6 ones (normalised, deduplicated) are the tunnel's, the IPv4 one is not.
    { name: 'site', passwordHash, segments: ['v6'], digestSecret: 'site-secret-1', lan: ['fd00:e1:300::/48', '198.51.100.0/24', 'fd00:e1:301:0::1/64', 'fd00:e1:300::/48'] },
    { name: 'twin', passwordHash, segments: ['v6'], digestSecret: 'twin-secret-1', lan: ['fd00:e1:300::/48'] },
    { name: 'nested', passwordHash, segments: ['v6'], digestSecret: 'nested-secret-1', lan: ['fd00:e1:500::/48', 'fd00:e1:300:ab00::/56'] },
    { name: 'greedy', passwordHash, segments: ['v6'], digestSecret: 'greedy-secret-1', lan: ['fd00:e1:400::/48', 'fd00::/16'] },
    { name: 'leaser', passwordHash, segments: ['v6'], digestSecret: 'leaser-secret-1', lan: ['fd00:e1:100:5500::/56'] },
  ];
});

const h = useSwitchHarness();
const clients: LineClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

interface Setup {
  t: TestNode;
  port: number;
  plane: RecordingPlane;
  checks: { n: number };
  connect(opts?: { localAddress?: string; greeting?: boolean }): Promise<LineClient>;
}

async function setup(over: Partial<Omit<DtcpServerOptions, 'plane'>> & { limits?: Partial<RateLimits>; store?: MemoryStore; node?: Record<string, unknown>; authority?: DtcpAuthority; realPlane?: boolean } = {}): Promise<Setup> {
  const store = over.store ?? new MemoryStore();
  const checks = { n: 0 };
  const service = new DtcpService({ segments: [V6, L2], users: new StoreUserDirectory(store, new MemoryUserDirectory(users)), ipam: new Ipam([V6, L2], store), limiter: new RateLimiter(store, over.limits), onCheck: () => checks.n++ });
  const plane = new RecordingPlane();
  const { limits: _l, store: _s, node: nodeOver, authority, realPlane, ...dtcp } = over;
  const t = await h.node({ segments: [V6, L2], dtcp: { listen: { host: '127.0.0.1', port: 0 }, segment: 'v6', authority: authority ?? { tunnel: (req) => service.tunnel(req) }, ...(realPlane ? {} : { plane }), closeGraceMs: 200, ...dtcp }, ...nodeOver });
  const port = t.node.dtcp!.address().port;
  return {
    t,
    port,
    plane,
    checks,
    async connect(opts = {}) {
      const c = await LineClient.connect(port, opts);
      clients.push(c);
      return c;
    },
  };
}

function failures(t: TestNode): Promise<Record<string, number>> {
  return t.registry
    .getSingleMetric('el_dtcp_failures_total')!
    .get()
    .then((m) => Object.fromEntries(m.values.map((v) => [String(v.labels.reason), v.value])));
}

describe('DTCP listener: the line protocol', () => {
  it('greets with a fresh 32-hex challenge on every connection, also two in the same second', async () => {
    const s = await setup();
    const a = await s.connect();
    const b = await s.connect();
    expect(a.challenge).toMatch(/^[0-9a-f]{32}$/);
    expect(b.challenge).toMatch(/^[0-9a-f]{32}$/);
    expect(a.challenge).not.toBe(b.challenge);
    const c = await LineClient.connect(s.port, { greeting: false });
    clients.push(c);
    expect(await c.next()).toMatch(GREETING);
  });

  it('answers ping and help (verb in any case, LF or CR LF), and -ERR invalid command to anything else', async () => {
    const s = await setup();
    const c = await s.connect();
    expect(await c.ask('ping')).toBe('+OK hi, happy to hear from you');
    expect(await c.ask('PING')).toBe('+OK hi, happy to hear from you');
    c.send('Help', '\n');
    expect(await c.next()).toBe('+OK valid commands are: TUNNEL PING QUIT');
    for (const bad of ['', 'hello', 'ping now', 'ping ', ' ping', 'tunnel phone', 'tunnel phone 0123 host extra', 'tunnel  phone 0123 host', 'tunnel phone  host', 'PROXY TCP4 198.51.100.7 127.0.0.1 40000 20200']) {
      expect(await c.ask(bad), JSON.stringify(bad)).toBe('-ERR invalid command');
    }
    // Still usable after all of them.
    expect(await c.ask('ping')).toBe('+OK hi, happy to hear from you');
    expect((await failures(s.t)).invalid_command).toBe(10);
  });

  it('quit: +OK see you soon. and the server closes', async () => {
    const s = await setup();
    const c = await s.connect();
    expect(await c.ask('QUIT')).toBe('+OK see you soon.');
    await c.closedWithin();
  });

  it('host: +OK <client-v4> <server-v4> <client-v6> <server-v6>, with the digest in lower or upper case; sticky across reconnects', async () => {
    const s = await setup();
    const a = await s.connect();
    const reply = await a.tunnel('phone', SECRET, 'host');
    const m = /^\+OK 127\.0\.0\.1 127\.0\.0\.1 (fd00:e1::[0-9a-f:]+) fd00:e1::1$/.exec(reply);
    expect(m, reply).not.toBeNull();
    const v6 = m![1]!;
    expect(s.plane.events).toEqual([`open t1 phone 127.0.0.1>127.0.0.1 [${v6}/128]`]);
    expect([...s.plane.live.values()][0]).toMatchObject({ segment: 'v6', user: 'phone', device: 'dtcp', sources: [`${v6}/128`], routes: [`${v6}/128`] });
    expect(await a.ask('ping')).toBe('+OK hi, happy to hear from you');
    expect(await a.ask('quit')).toBe('+OK see you soon.');
    await a.closedWithin();
    expect(s.plane.events.at(-1)).toBe('close t1 quit');

    // Reconnect (a new challenge), upper-case digest (KAME clients): the same address.
    const b = await s.connect();
    expect(await b.tunnel('phone', SECRET, 'host', { upper: true })).toBe(`+OK 127.0.0.1 127.0.0.1 ${v6} fd00:e1::1`);
    expect(s.t.node.dtcp!.stats.tunnels).toEqual({ host: 1, network: 0, tunnelonly: 0 });
  });

  it('network (and its alias tunnelroute): +OK <client-v4> <server-v4> <prefix>/<len>, sticky; tunnelonly: +OK <client-v4> <server-v4>', async () => {
    const s = await setup();
    const a = await s.connect();
    const reply = await a.tunnel('iad', 'iad-secret-1', 'network');
    expect(reply).toMatch(/^\+OK 127\.0\.0\.1 127\.0\.0\.1 fd00:e1:1[0-9a-f]{2}::\/48$/);
    const prefix = reply.split(' ')[3]!;
    expect([...s.plane.live.values()][0]).toMatchObject({ sources: [prefix], routes: [prefix] });
    a.destroy();
    await a.closedWithin();
    const b = await s.connect();
    expect(await b.tunnel('iad', 'iad-secret-1', 'tunnelroute')).toBe(`+OK 127.0.0.1 127.0.0.1 ${prefix}`);
    const c = await s.connect();
    expect(await c.tunnel('phone', SECRET, 'tunnelonly')).toBe('+OK 127.0.0.1 127.0.0.1');
    expect([...s.plane.live.values()].find((x) => x.user === 'phone')).toMatchObject({ sources: [], routes: [] });
  });

  it("tunnelonly: the user's static IPv6 lan ranges are the tunnel's sources and routes; the reply line names the IPv4 ends only", async () => {
    const s = await setup();
    const c = await s.connect();
    expect(await c.tunnel('site', 'site-secret-1', 'tunnelonly')).toBe('+OK 127.0.0.1 127.0.0.1');
    expect([...s.plane.live.values()][0]).toMatchObject({ user: 'site', sources: ['fd00:e1:300::/48', 'fd00:e1:301::/64'], routes: ['fd00:e1:300::/48', 'fd00:e1:301::/64'] });
    // Static, not leased: host and network from the same user still draw from the pools.
    expect(await c.tunnel('site', 'site-secret-1', 'host')).toMatch(/^\+OK 127\.0\.0\.1 127\.0\.0\.1 fd00:e1::[0-9a-f:]+ fd00:e1::1$/);
    expect([...s.plane.live.values()][0]!.sources).toHaveLength(1);
    // Back to tunnelonly; then another user's range inside this one is refused while it is up, and counted.
    expect(await c.tunnel('site', 'site-secret-1', 'tunnelonly')).toBe('+OK 127.0.0.1 127.0.0.1');
    const d = await s.connect();
    expect(await d.tunnel('nested', 'nested-secret-1', 'tunnelonly')).toBe('-ERR lan range fd00:e1:300:ab00::/56 overlaps the static range of another tunnel in segment "v6"; give each user a range of its own');
    expect((await failures(s.t)).address_in_use).toBe(1);
    expect(s.plane.size).toBe(1);
    // Once the site's tunnel is gone, the other's is granted.
    expect(await c.ask('quit')).toBe('+OK see you soon.');
    await c.closedWithin();
    expect(await d.tunnel('nested', 'nested-secret-1', 'tunnelonly')).toBe('+OK 127.0.0.1 127.0.0.1');
  });

  it('tunnelonly: a lan range overlapping what the segment leases (its pool, its delegation pool) is refused with -ERR and counted', async () => {
    const s = await setup();
    const c = await s.connect();
    expect(await c.tunnel('greedy', 'greedy-secret-1', 'tunnelonly')).toBe('-ERR lan range fd00::/16 of user "greedy" overlaps its IPv6 pool fd00:e1::/64 in segment "v6"; give the user a range outside the segment\'s pools and routes');
    expect(await c.tunnel('leaser', 'leaser-secret-1', 'tunnelonly')).toBe('-ERR lan range fd00:e1:100:5500::/56 of user "leaser" overlaps its IPv6 delegation pool fd00:e1:100::/40 in segment "v6"; give the user a range outside the segment\'s pools and routes');
    expect(s.plane.size).toBe(0);
    expect((await failures(s.t)).address_in_use).toBe(2);
    // The same users' host tunnels are unaffected.
    expect(await c.tunnel('greedy', 'greedy-secret-1', 'host')).toMatch(/^\+OK /);
  });

  it('a second tunnel on a connection replaces the first cleanly (old closed before the new opens)', async () => {
    const s = await setup();
    const c = await s.connect();
    expect(await c.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    expect(await c.tunnel('phone', SECRET, 'tunnelonly')).toBe('+OK 127.0.0.1 127.0.0.1');
    expect(s.plane.events.slice(1)).toEqual(['close t1 replaced', 'open t2 phone 127.0.0.1>127.0.0.1 []']);
    expect(s.t.node.dtcp!.stats.tunnels).toEqual({ host: 0, network: 0, tunnelonly: 1 });
    // A refused second tunnel leaves the first up.
    expect(await c.ask(`tunnel phone ${'0'.repeat(32)} host`)).toBe('-ERR authentication failed.');
    expect(s.plane.size).toBe(1);
  });

  it('the same user tunnelling from a new connection supersedes the old one (one tunnel per user and device)', async () => {
    const s = await setup();
    const a = await s.connect();
    expect(await a.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    const b = await s.connect();
    expect(await b.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    expect(await a.next()).toBe('-ERR superseded by a new tunnel of this user, disconnecting');
    await a.closedWithin();
    expect(s.plane.events).toEqual(['open t1 phone 127.0.0.1>127.0.0.1 [' + [...s.plane.live.values()][0]!.sources[0] + ']', 'close t1 superseded', expect.stringMatching(/^open t2 phone /)]);
  });

  it('-ERR authentication failed. for a wrong digest (lower and upper case), an unknown user, a user without a DTCP secret, a malformed digest', async () => {
    const s = await setup();
    const c = await s.connect();
    const wrong = await c.tunnel('phone', 'not-the-secret', 'host');
    expect(wrong).toBe('-ERR authentication failed.');
    expect(await c.tunnel('phone', 'not-the-secret', 'host', { upper: true })).toBe('-ERR authentication failed.');
    expect(await c.tunnel('nobody', SECRET, 'host')).toBe('-ERR authentication failed.');
    expect(await c.tunnel('nosecret', SECRET, 'host')).toBe('-ERR authentication failed.');
    expect(await c.ask('tunnel phone xyz host')).toBe('-ERR authentication failed.');
    // A digest for another connection's challenge is wrong here.
    const other = await s.connect();
    expect(await c.tunnel('phone', SECRET, 'host').then(() => c.ask(`tunnel phone ${'a'.repeat(32)} host`))).toBe('-ERR authentication failed.');
    expect(other.challenge).not.toBe(c.challenge);
    expect(s.plane.size).toBe(1);
    expect((await failures(s.t)).auth).toBe(6);
    // The malformed digest cost no hash; the others did (the right one too).
    expect(s.checks.n).toBe(6);
  });

  it('-ERR unsupported tunnel type <t> for an unknown type, a type in the wrong case, and a type this listener does not grant', async () => {
    const s = await setup({ types: ['host'] });
    const c = await s.connect();
    expect(await c.tunnel('phone', SECRET, 'bogus')).toBe('-ERR unsupported tunnel type bogus');
    expect(await c.tunnel('phone', SECRET, 'HOST')).toBe('-ERR unsupported tunnel type HOST');
    expect(await c.tunnel('iad', 'iad-secret-1', 'network')).toBe('-ERR unsupported tunnel type network');
    expect(await c.tunnel('iad', 'iad-secret-1', 'tunnelroute')).toBe('-ERR unsupported tunnel type tunnelroute');
    expect(s.checks.n).toBe(0);
    expect((await failures(s.t)).unsupported_type).toBe(4);
  });

  it('-ERR <reason> from the broker: a user not in the segment', async () => {
    const s = await setup();
    const c = await s.connect();
    expect(await c.tunnel('elsewhere', SECRET, 'host')).toBe('-ERR user "elsewhere" may not join segment "v6"');
    expect((await failures(s.t)).forbidden).toBe(1);
  });

  it('a line over 1 KiB: -ERR line too long, disconnecting; exactly 1 KiB is still a line', async () => {
    const s = await setup();
    const c = await s.connect();
    expect(await c.ask('x'.repeat(1024))).toBe('-ERR invalid command');
    c.send('y'.repeat(1025));
    expect(await c.next()).toBe('-ERR line too long, disconnecting');
    await c.closedWithin();
    // Without a line end at all: cut off once more than 1 KiB is buffered.
    const d = await s.connect();
    d.socket.write('z'.repeat(4096));
    expect(await d.next()).toBe('-ERR line too long, disconnecting');
    await d.closedWithin();
    expect((await failures(s.t)).line_too_long).toBe(2);
  });

  it('idle before the tunnel (shortened timer): -ERR connection timed out, disconnecting', async () => {
    const s = await setup({ idleTimeoutMs: 300 });
    const c = await s.connect();
    expect(await c.next(3000)).toBe('-ERR connection timed out, disconnecting');
    await c.closedWithin();
    expect((await failures(s.t)).timeout).toBe(1);
  });

  it('idle with a tunnel up: pings keep it; silence past the longer timer tears it down', async () => {
    const s = await setup({ idleTimeoutMs: 300, tunnelIdleTimeoutMs: 900 });
    const c = await s.connect();
    expect(await c.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    // Past the pre-tunnel timer twice over, kept by pings.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 250));
      expect(await c.ask('ping')).toBe('+OK hi, happy to hear from you');
    }
    expect(s.plane.size).toBe(1);
    expect(await c.next(5000)).toBe('-ERR connection timed out, disconnecting');
    await c.closedWithin();
    expect(s.plane.events.at(-1)).toBe('close t1 timeout');
  });

  it('EOF from the client tears the tunnel down', async () => {
    const s = await setup();
    const c = await s.connect();
    expect(await c.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    c.socket.end();
    await c.closedWithin();
    await expect.poll(() => s.plane.events.at(-1)).toBe('close t1 eof');
    expect(s.t.node.dtcp!.stats).toMatchObject({ connections: 0, tunnels: { host: 0, network: 0, tunnelonly: 0 } });
  });

  it('rate limit per user from one source, reserved before the hash: the right digest is refused too once over it', async () => {
    const s = await setup({ limits: { perUser: 3 } });
    const c = await s.connect();
    // Ten guesses at once on ten connections: only three digests are ever computed.
    const guesses = await Promise.all(Array.from({ length: 10 }, () => s.connect()));
    const replies = await Promise.all(guesses.map((g) => g.ask(`tunnel phone ${'f'.repeat(32)} host`)));
    expect(replies.filter((r) => r === '-ERR authentication failed.')).toHaveLength(3);
    expect(replies.filter((r) => /^-ERR too many failed logins for this user from this address; try again in \d+ s$/.test(r))).toHaveLength(7);
    const reply = await c.tunnel('phone', SECRET, 'host');
    expect(reply).toMatch(/^-ERR too many failed logins for this user from this address; try again in \d+ s$/);
    expect(s.checks.n).toBe(3);
    expect(s.plane.size).toBe(0);
    expect((await failures(s.t)).rate_limited).toBe(8);
    // Another user from the same source is not locked out.
    expect(await c.tunnel('iad', 'iad-secret-1', 'network')).toMatch(/^\+OK /);
  });

  it('-ERR the tunnel broker is unavailable when no broker answers', async () => {
    const s = await setup({
      authority: {
        tunnel: () => Promise.reject(new Error('connect ECONNREFUSED')),
      },
    });
    const c = await s.connect();
    expect(await c.tunnel('phone', SECRET, 'host')).toBe('-ERR the tunnel broker is unavailable; try again later');
    expect((await failures(s.t)).unavailable).toBe(1);
  });
});

describe.skipIf(!requireNetnsOrSkip())('DTCP listener on the node\'s own 6in4 plane (root: a raw protocol-41 socket)', () => {
  it('tunnel opens a port in the L3 segment with the lease as its route; quit removes it', async () => {
    const s = await setup({ realPlane: true });
    const plane = s.t.node.sixInFourPlane();
    const c = await s.connect();
    const reply = await c.tunnel('phone', SECRET, 'host');
    expect(reply).toMatch(/^\+OK 127\.0\.0\.1 127\.0\.0\.1 fd00:e1::[0-9a-f:]+ fd00:e1::1$/);
    expect(plane.size).toBe(1);
    expect(s.t.node.stats.segments.v6!.routes).toBeGreaterThanOrEqual(1);
    expect(await c.ask('quit')).toBe('+OK see you soon.');
    await c.closedWithin();
    await expect.poll(() => plane.size).toBe(0);
    // A second user from the same client IPv4 takes the tunnel over (6in4 knows tunnels by it alone): the first connection ends.
    const a = await s.connect();
    expect(await a.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    const b = await s.connect();
    expect(await b.tunnel('iad', 'iad-secret-1', 'network')).toMatch(/^\+OK 127\.0\.0\.1 127\.0\.0\.1 fd00:e1:1/);
    expect(await a.next()).toBe('-ERR tunnel closed (superseded), disconnecting');
    await a.closedWithin();
    expect(plane.size).toBe(1);
    expect(s.t.node.dtcp!.stats.tunnels).toEqual({ host: 0, network: 1, tunnelonly: 0 });
  });

  it("tunnelonly routes the user's static lan ranges to the tunnel port; the same range for another tunnel is refused with -ERR and counted", async () => {
    const s = await setup({ realPlane: true });
    const seg = s.t.node.segmentByName('v6') as L3Segment;
    const c = await s.connect();
    expect(await c.tunnel('site', 'site-secret-1', 'tunnelonly')).toBe('+OK 127.0.0.1 127.0.0.1');
    const port = seg.ownerOf(parsePrefix('fd00:e1:300::/48')!);
    expect(port?.kind).toBe('6in4');
    expect(seg.ownerOf(parsePrefix('fd00:e1:301::/64')!)).toBe(port);
    // Another user's tunnel (from another client IPv4) asking for the same static range.
    const d = await s.connect({ localAddress: '127.0.0.2' });
    expect(await d.tunnel('twin', 'twin-secret-1', 'tunnelonly')).toBe('-ERR lan range fd00:e1:300::/48 overlaps the static range of another tunnel in segment "v6"; give each user a range of its own');
    expect((await failures(s.t)).address_in_use).toBe(1);
    expect(seg.ownerOf(parsePrefix('fd00:e1:300::/48')!)).toBe(port);
    expect(await c.ask('quit')).toBe('+OK see you soon.');
    await c.closedWithin();
    await expect.poll(() => seg.ownerOf(parsePrefix('fd00:e1:300::/48')!)).toBeUndefined();
    // Once it is gone the range is free for the other.
    expect(await d.tunnel('twin', 'twin-secret-1', 'tunnelonly')).toBe('+OK 127.0.0.2 127.0.0.1');
  });
});

describe('DTCP listener behind a load balancer (PROXY protocol)', () => {
  it('from a trusted balancer the header names the client: its IPv4 is the tunnel end and the rate-limit source', async () => {
    const s = await setup({ node: { proxyProtocol: { trusted: ['127.0.0.3/32'] }, handshakeTimeoutMs: 500 } });
    const c = await s.connect({ localAddress: '127.0.0.3', greeting: false });
    c.send('PROXY TCP4 198.51.100.7 127.0.0.1 40000 20200');
    expect(await c.greet()).toMatch(GREETING);
    expect(await c.tunnel('phone', SECRET, 'tunnelonly')).toBe('+OK 198.51.100.7 127.0.0.1');
    expect([...s.plane.live.values()][0]).toMatchObject({ clientV4: '198.51.100.7', serverV4: '127.0.0.1' });
    // Without the header within the deadline a balancer's connection is refused, greeted by nobody.
    const bare = await s.connect({ localAddress: '127.0.0.3', greeting: false });
    await bare.closedWithin();
    expect(bare.lines).toEqual([]);
    // From anyone else a PROXY line is no header, just an invalid command.
    const other = await s.connect();
    expect(await other.ask('PROXY TCP4 203.0.113.9 127.0.0.1 40000 20200')).toBe('-ERR invalid command');
    expect(await other.tunnel('iad', 'iad-secret-1', 'tunnelonly')).toBe('+OK 127.0.0.1 127.0.0.1');
  });
});

describe('DTCP listener: bounds', () => {
  it('connections without a tunnel are bounded per source; a tunnel frees its slot; other sources are still served', async () => {
    const s = await setup({ node: { connectionLimits: { pendingPerSource: 3 } } });
    const held = [await s.connect(), await s.connect(), await s.connect()];
    const refused = await LineClient.connect(s.port, { greeting: false });
    clients.push(refused);
    await refused.closedWithin();
    expect(refused.lines).toEqual([]);
    const elsewhere = await s.connect({ localAddress: '127.0.0.2' });
    expect(await elsewhere.ask('ping')).toBe('+OK hi, happy to hear from you');
    expect(await held[0]!.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    const next = await s.connect();
    expect(await next.ask('ping')).toBe('+OK hi, happy to hear from you');
    expect(s.t.node.dtcp!.guard.refused.pending_per_source).toBe(1);
  });

  it('a client that never reads is paused (its lines stay unread), never makes the node buffer, and ends at its idle timeout; the others are served', async () => {
    const s = await setup({ idleTimeoutMs: 2000 });
    const hog = await s.connect();
    hog.socket.pause();
    // Pings as fast as the node takes them, until it stops reading them (the hog's TCP window is full).
    const batch = 'ping\r\n'.repeat(2048);
    const node = s.t.node.dtcp!;
    const deadline = Date.now() + 25_000;
    while (node.stats.paused === 0 && Date.now() < deadline) {
      if (!hog.socket.write(batch)) await Promise.race([new Promise((r) => hog.socket.once('drain', r)), new Promise((r) => setTimeout(r, 100))]);
      else await new Promise((r) => setImmediate(r));
    }
    expect(node.stats.paused).toBe(1);
    // The node holds at most a high-water mark of replies for it, and reads nothing more from it.
    const unsent = node.stats.unsentBytes;
    expect(unsent).toBeLessThanOrEqual(64 * 1024 + 64);
    for (let i = 0; i < 10; i++) {
      hog.socket.write(batch);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(node.stats.unsentBytes).toBe(unsent);
    expect(node.stats.connections).toBe(1);
    const other = await s.connect();
    expect(await other.ask('ping')).toBe('+OK hi, happy to hear from you');
    expect(await other.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    // Nothing of it is read any more, so its idle timer ends it.
    await expect.poll(async () => (await failures(s.t)).timeout, { timeout: 8000 }).toBe(1);
    await expect.poll(() => node.stats.paused).toBe(0);
    expect(node.stats.connections).toBe(1);
  });

  it('lines pipelined behind a tunnel are answered in order once it is decided', async () => {
    const s = await setup();
    const c = await s.connect();
    c.socket.write(`tunnel phone ${'0'.repeat(32)} host\r\n` + 'ping\r\n'.repeat(40) + 'quit\r\n');
    expect(await c.next()).toBe('-ERR authentication failed.');
    for (let i = 0; i < 40; i++) expect(await c.next()).toBe('+OK hi, happy to hear from you');
    expect(await c.next()).toBe('+OK see you soon.');
    await c.closedWithin();
  });

  it('a config reload that removes a user ends its tunnel (SwitchNode.endSessions), not the others', async () => {
    const s = await setup();
    const a = await s.connect();
    expect(await a.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    const b = await s.connect();
    expect(await b.tunnel('iad', 'iad-secret-1', 'network')).toMatch(/^\+OK /);
    expect(s.t.node.endSessions((user, seg) => user === 'phone' && seg === 'v6', 'user removed or no longer in this segment')).toBe(1);
    expect(await a.next()).toBe('-ERR user removed or no longer in this segment, disconnecting');
    await a.closedWithin();
    expect(await b.ask('ping')).toBe('+OK hi, happy to hear from you');
    expect(s.t.node.dtcp!.stats.tunnels).toEqual({ host: 0, network: 1, tunnelonly: 0 });
  });

  it('while the node drains, tunnel is refused (it would end within seconds); established tunnels stay until stop', async () => {
    const s = await setup();
    const a = await s.connect();
    expect(await a.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    const draining = s.t.node.drain('test', { timeoutMs: 10 });
    const b = await s.connect();
    expect(await b.tunnel('iad', 'iad-secret-1', 'network')).toBe('-ERR server shutting down; try again later');
    expect(s.checks.n).toBe(1);
    expect(await a.ask('ping')).toBe('+OK hi, happy to hear from you');
    await draining;
    expect((await failures(s.t)).draining).toBe(1);
  });

  it('stop() ends every connection and tunnel', async () => {
    const s = await setup();
    const c = await s.connect();
    expect(await c.tunnel('phone', SECRET, 'host')).toMatch(/^\+OK /);
    await s.t.node.dtcp!.stop('test');
    expect(await c.next()).toBe('-ERR server shutting down, disconnecting');
    await c.closedWithin();
    expect(s.plane.size).toBe(0);
  });
});
