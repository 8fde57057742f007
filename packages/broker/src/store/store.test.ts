/**
 * One contract, two stores: every test runs against the MemoryStore and against a
 * RedisStore on a real redis-server started here (skipped without redis-server,
 * except in CI). The clock is a parameter, so expiry needs no sleeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from './memory-store.js';
import { COMMAND_TIMEOUT_MS, RedisStore, type RedisStoreConfig } from './redis-store.js';
import { MAX_REVOCATIONS, type ElError } from '@elink/protocol';
import { MAX_DEVICE_KEYS_PER_USER, MAX_NODES, TRUNK_DOWNS_SWEEP_MS, type BrokerStore, type NodeRecord, type TrunkDownRecord } from './store.js';
import { redisOrSkip, startTestCluster, startTestRedis, startTestSentinel, writeGate, type TestCluster, type TestRedis, type TestSentinel, type WriteGate } from './test-redis.js';

const haveRedis = redisOrSkip();
/** A small counter table, so the bound is reached in a test. */
const MAX_COUNTERS_IN_TEST = 64;
/** A small trunk-loss table: a put that finds it full scans it in one Redis step, and
 * several of them at once over 16,384 entries passed the 1 s command timeout on a loaded machine. */
const MAX_TRUNK_DOWNS_IN_TEST = 256;

const node = (name: string, extra: Partial<NodeRecord> = {}): NodeRecord => ({
  node: name,
  hosts: ['127.0.0.1'],
  port: 4443,
  capacity: 100,
  sessions: 0,
  segments: ['lan'],
  active: [],
  draining: false,
  seenAt: 1,
  ...extra,
});

type Clock = { t: number };

/** An implementation under the contract. */
interface Backend {
  /** Opens a store on the implementation's backend. */
  make(clock: Clock): Promise<BrokerStore>;
  /** Opens a second store on the same backend: a second broker, for the races between brokers. */
  again(first: BrokerStore, clock: Clock): Promise<BrokerStore>;
  /** Holds the backend's writes, to play a race between brokers in a chosen order (none: every call is one step already). */
  gate?(): WriteGate;
}

function contract(name: string, { make, again, gate }: Backend) {
  describe(`${name} (store contract)`, () => {
    const clock = { t: 1_700_000_000_000 };
    let s: BrokerStore;
    /** The second broker's store over the same backend. */
    let s2: BrokerStore;
    let n = 0;
    // A fresh segment name per test keeps tests independent in one Redis database.
    const seg = () => `seg${n++}`;

    beforeAll(async () => {
      s = await make(clock);
      s2 = await again(s, clock);
    });
    afterAll(async () => {
      if (s2 !== s) await s2?.close();
      await s?.close();
    });

    it('claims an address for one key only, and keeps the first address a key won', async () => {
      const g = seg();
      expect(await s.claim(g, 'k1', 'ipv4', '198.19.0.2', 60)).toBe('198.19.0.2');
      expect(await s.claim(g, 'k2', 'ipv4', '198.19.0.2', 60)).toBeUndefined();
      expect(await s.claim(g, 'k1', 'ipv4', '198.19.0.3', 60)).toBe('198.19.0.2');
      // Families and segments are separate namespaces.
      expect(await s.claim(g, 'k2', 'ipv6', '198.19.0.2', 60)).toBe('198.19.0.2');
      expect(await s.claim(`${g}x`, 'k2', 'ipv4', '198.19.0.2', 60)).toBe('198.19.0.2');
      expect(await s.get(g, 'k1')).toEqual({ ipv4: '198.19.0.2' });
      expect(await s.count(g)).toBe(2);
      expect(await s.count('empty')).toBe(0);
    });

    it('gives 200 concurrent claims of one address to exactly one key', async () => {
      const g = seg();
      const got = await Promise.all(Array.from({ length: 200 }, (_, i) => s.claim(g, `k${i}`, 'ipv4', '198.19.0.9', 60)));
      expect(got.filter((a) => a === '198.19.0.9')).toHaveLength(1);
      expect(await s.count(g)).toBe(1);
    });

    it('lets an expired lease go to another key, and restarts the idle time on touch', async () => {
      const g = seg();
      await s.claim(g, 'old', 'ipv4', '198.19.0.2', 10);
      await s.claim(g, 'kept', 'ipv4', '198.19.0.3', 10);
      clock.t += 8000;
      await s.touch(g, 'kept', 10);
      clock.t += 4000;
      expect(await s.get(g, 'old')).toBeUndefined();
      expect(await s.get(g, 'kept')).toEqual({ ipv4: '198.19.0.3' });
      expect(await s.claim(g, 'new', 'ipv4', '198.19.0.2', 10)).toBe('198.19.0.2');
      expect(await s.claim(g, 'new2', 'ipv4', '198.19.0.3', 10)).toBeUndefined();
      expect(await s.count(g)).toBe(2);
      expect((await s.list(g, 10)).map((l) => l.key).sort()).toEqual(['kept', 'new']);
    });

    it('lets a forced claim (a static assignment) take an address from its holder', async () => {
      const g = seg();
      await s.claim(g, 'dyn', 'ipv4', '198.19.0.5', 60);
      await s.claim(g, 'dyn', 'ipv6', 'fd00:e1::5', 60);
      expect(await s.claim(g, 'static', 'ipv4', '198.19.0.5', 60, true)).toBe('198.19.0.5');
      expect(await s.get(g, 'dyn')).toEqual({ ipv6: 'fd00:e1::5' });
      expect(await s.claim(g, 'dyn', 'ipv4', '198.19.0.6', 60)).toBe('198.19.0.6');
    });

    it('releases a lease and its addresses', async () => {
      const g = seg();
      await s.claim(g, 'k', 'ipv4', '198.19.0.2', 60);
      await s.claim(g, 'k', 'prefix6', 'fd00:e1:0:100::/56', 60);
      expect(await s.release(g, 'k')).toBe(true);
      expect(await s.release(g, 'k')).toBe(false);
      expect(await s.claim(g, 'j', 'prefix6', 'fd00:e1:0:100::/56', 60)).toBe('fd00:e1:0:100::/56');
    });

    it('takes a challenge once, and never an expired one', async () => {
      await s.putChallenge('c1', 30);
      await s.putChallenge('c2', 30);
      const both = await Promise.all([s.takeChallenge('c1'), s.takeChallenge('c1')]);
      expect(both.sort()).toEqual([false, true]);
      expect(await s.takeChallenge('never')).toBe(false);
      if (s.kind === 'memory') {
        clock.t += 31_000;
        expect(await s.takeChallenge('c2')).toBe(false);
      }
    });

    it('reserves at most the limit of 300 concurrent attempts, all counters or none; settles failures and successes', async () => {
      const counters = [
        { key: 'us:eve', limit: 10, windowSeconds: 300 },
        { key: 's:eve', limit: 50, windowSeconds: 300 },
      ];
      const keys = counters.map((c) => c.key);
      const got = await Promise.all(Array.from({ length: 300 }, () => s.reserve(counters)));
      expect(got.filter((r) => r.ok)).toHaveLength(10);
      // Refused while the 10 are in flight: they settle soon, so retry in a second.
      expect(got.find((r) => !r.ok)).toEqual({ ok: false, index: 0, retryAfter: 1 });
      // The refused ones took no unit of the other counter either.
      expect(await s.counter('us:eve')).toEqual({ count: 10, retryAfter: 300 });
      expect((await s.counter('s:eve')).count).toBe(10);
      // A refusal by the second counter leaves the first one alone.
      expect(await s.reserve([{ key: 'other', limit: 5, windowSeconds: 300 }, counters[0]!])).toMatchObject({ ok: false, index: 1 });
      expect(await s.counter('other')).toEqual({ count: 0, retryAfter: 0 });
      // Nine failed (their units stay), one succeeded (its unit comes back).
      for (let i = 0; i < 9; i++) await s.settle(keys, false);
      await s.settle(keys, true);
      expect((await s.counter('us:eve')).count).toBe(9);
      expect((await s.counter('s:eve')).count).toBe(9);
      // Settling without a flight changes nothing.
      await s.settle([...keys, 'never-reserved'], true);
      expect((await s.counter('us:eve')).count).toBe(9);
      expect(await s.counter('never-reserved')).toEqual({ count: 0, retryAfter: 0 });
      expect(await s.reserve(counters)).toEqual({ ok: true });
      await s.settle(keys, false);
      // Ten settled failures: refused for the rest of the window.
      clock.t += 100_000;
      expect(await s.reserve(counters)).toEqual({ ok: false, index: 0, retryAfter: 200 });
      await s.clearCounter('us:eve');
      expect(await s.counter('us:eve')).toEqual({ count: 0, retryAfter: 0 });
      clock.t += 201_000;
      expect(await s.counter('s:eve')).toEqual({ count: 0, retryAfter: 0 });
      expect(await s.reserve(counters)).toEqual({ ok: true });
    });

    it(`holds at most ${MAX_COUNTERS_IN_TEST} live counters: new ones are refused, live ones keep counting, ended ones make room`, async () => {
      clock.t += 400_000; // every earlier counter has ended
      const got = await Promise.all(Array.from({ length: 100 }, (_, i) => s.reserve([{ key: `flood:${i}`, limit: 3, windowSeconds: 60 }])));
      expect(got.filter((r) => r.ok)).toHaveLength(MAX_COUNTERS_IN_TEST);
      expect(got.find((r) => !r.ok)).toMatchObject({ ok: false, index: -1 });
      const first = got.findIndex((r) => r.ok);
      expect(await s.reserve([{ key: `flood:${first}`, limit: 3, windowSeconds: 60 }])).toEqual({ ok: true });
      const full = await s.reserve([{ key: 'newcomer', limit: 3, windowSeconds: 60 }]);
      expect(full).toMatchObject({ ok: false, index: -1 });
      expect(full.ok === false && full.retryAfter).toBeGreaterThan(0);
      expect(full.ok === false && full.retryAfter).toBeLessThanOrEqual(60);
      clock.t += 61_000;
      expect(await s.reserve([{ key: 'newcomer', limit: 3, windowSeconds: 60 }])).toEqual({ ok: true });
    });

    it('gives 20 concurrent new devices of one owner at most max leases, atomically; live ones keep working', async () => {
      const g = seg();
      const cap = { prefix: '["amy",', max: 8 };
      const key = (d: string, user = 'amy') => JSON.stringify([user, d]);
      const got = await Promise.all(
        Array.from({ length: 20 }, (_, i) => s.claimCapped(g, key(`d${i}`), 'ipv4', `198.19.0.${i + 2}`, 60, cap).then(
          (a) => a,
          (e: { code?: string }) => e.code,
        )),
      );
      expect(got.filter((x) => x === 'EL_ERR_DEVICE_LIMIT')).toHaveLength(12);
      expect(await s.count(g)).toBe(8);
      // A device that holds a lease still claims (another family, a renewal).
      const d = got.findIndex((x) => x !== 'EL_ERR_DEVICE_LIMIT');
      expect(await s.claimCapped(g, key(`d${d}`), 'ipv6', 'fd00:e1::9', 60, cap)).toBe('fd00:e1::9');
      expect(await s.claimCapped(g, key(`d${d}`), 'ipv4', '198.19.0.99', 60, cap)).toBe(got[d]);
      // Another user (even one whose name extends this one's) is not counted against it.
      expect(await s.claimCapped(g, key('d0', 'amy2'), 'ipv4', '198.19.0.50', 60, { prefix: '["amy2",', max: 8 })).toBe('198.19.0.50');
      await expect(s.claimCapped(g, key('late'), 'ipv4', '198.19.0.51', 60, cap)).rejects.toMatchObject({ code: 'EL_ERR_DEVICE_LIMIT' });
      // Released or expired leases no longer count.
      expect(await s.release(g, key(`d${d}`))).toBe(true);
      expect(await s.claimCapped(g, key('late'), 'ipv4', '198.19.0.51', 60, cap)).toBe('198.19.0.51');
      clock.t += 61_000;
      expect(await s.claimCapped(g, key('later'), 'ipv4', '198.19.0.52', 60, cap)).toBe('198.19.0.52');
    });

    it('keeps node records until they are not refreshed for their retain time', async () => {
      await s.putNode(node('a', { sessions: 3 }), 60);
      await s.putNode(node('b'), 60);
      await s.putNode(node('a', { sessions: 4 }), 60);
      expect((await s.listNodes()).map((x) => [x.node, x.sessions]).sort()).toEqual([['a', 4], ['b', 0]]);
      clock.t += 61_000;
      await s.putNode(node('b'), 60);
      expect((await s.listNodes()).map((x) => x.node)).toEqual(['b']);
      expect(await s.deleteNode('b')).toBe(true);
      expect(await s.listNodes()).toEqual([]);
    });

    it(`keeps at most ${MAX_NODES} node records and as many console reports, also when two brokers add them at once; an ended one makes room`, async () => {
      clock.t += 3_600_000;
      await s.listNodes(); // drops what earlier tests left, ended by now
      await s.listNodeReports();
      const report = { traffic: { rxBytes: 0, txBytes: 0, rxFrames: 0, txFrames: 0 }, drops: {}, segments: {}, sessions: [], table: [] };
      const fill = MAX_NODES - 2 - (await s.listNodes()).length;
      for (let i = 0; i < fill; i += 256) {
        await Promise.all(Array.from({ length: Math.min(256, fill - i) }, (_, j) => s.putNode(node(`full${i + j}`), 30)));
        await Promise.all(Array.from({ length: Math.min(256, fill - i) }, (_, j) => s.putNodeReport(`full${i + j}`, report, 30)));
      }
      // 32 new nodes from both brokers at once: 2 are kept, the others refused.
      const racers = Array.from({ length: 32 }, (_, i) => `racer${i}`);
      const nodes = await Promise.allSettled(racers.map((n, i) => [s, s2][i % 2]!.putNode(node(n), 60)));
      const reports = await Promise.allSettled(racers.map((n, i) => [s, s2][i % 2]!.putNodeReport(n, report, 60)));
      for (const settled of [nodes, reports]) {
        expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
        for (const r of settled) if (r.status === 'rejected') expect((r.reason as ElError).code).toBe('EL_ERR_UNAVAILABLE');
      }
      expect(await s.listNodes()).toHaveLength(MAX_NODES);
      expect(await s.listNodeReports()).toHaveLength(MAX_NODES);
      // One already kept is still refreshed.
      await s.putNode(node('full0', { sessions: 7 }), 30);
      // The filled ones end: room again.
      clock.t += 31_000;
      await s2.putNode(node('late'), 60);
      await s2.putNodeReport('late', report, 60);
      expect((await s.listNodes()).map((x) => x.node).sort()).toEqual([...racers.filter((_, i) => nodes[i]!.status === 'fulfilled'), 'late'].sort());
      expect((await s.listNodeReports()).map((x) => x.node).sort()).toEqual([...racers.filter((_, i) => reports[i]!.status === 'fulfilled'), 'late'].sort());
      clock.t += 61_000; // all of it ends before the next test
      expect(await s.listNodes()).toEqual([]);
      expect(await s.listNodeReports()).toEqual([]);
    });

    it('keeps one trunk-down report per (node, reporter): a repeat changes nothing, a new loss replaces it, each ends at its ttl', async () => {
      const t0 = clock.t;
      expect(await s.putTrunkDowns('dr-a', [{ node: 'dx', since: 500 }, { node: 'dy', since: 600 }], 30)).toEqual([
        { node: 'dx', reporter: 'dr-a', since: 500, at: t0 },
        { node: 'dy', reporter: 'dr-a', since: 600, at: t0 },
      ]);
      // Another reporter of the same loss is an entry of its own.
      expect(await s.putTrunkDowns('dr-b', [{ node: 'dx', since: 510 }], 30)).toEqual([{ node: 'dx', reporter: 'dr-b', since: 510, at: t0 }]);
      clock.t += 10_000;
      // The next heartbeat repeats what it said: nothing new, the time first heard stays.
      expect(await s.putTrunkDowns('dr-a', [{ node: 'dx', since: 500 }, { node: 'dy', since: 600 }], 30)).toEqual([]);
      // A trunk that came up and went down again is a new loss.
      expect(await s.putTrunkDowns('dr-a', [{ node: 'dx', since: 9_000 }], 30)).toEqual([{ node: 'dx', reporter: 'dr-a', since: 9_000, at: t0 + 10_000 }]);
      const mine = async () => (await s.listTrunkDowns()).filter((d) => d.node.startsWith('d') && d.reporter.startsWith('dr-')).sort((x, y) => `${x.node}${x.reporter}`.localeCompare(`${y.node}${y.reporter}`));
      expect(await mine()).toEqual([
        { node: 'dx', reporter: 'dr-a', since: 9_000, at: t0 + 10_000 },
        { node: 'dx', reporter: 'dr-b', since: 510, at: t0 },
        { node: 'dy', reporter: 'dr-a', since: 600, at: t0 },
      ]);
      clock.t += 25_000;
      expect(await mine()).toEqual([{ node: 'dx', reporter: 'dr-a', since: 9_000, at: t0 + 10_000 }]);
      // Once gone, the same report is news again.
      expect(await s.putTrunkDowns('dr-a', [{ node: 'dy', since: 600 }], 30)).toEqual([{ node: 'dy', reporter: 'dr-a', since: 600, at: clock.t }]);
      expect(await s.putTrunkDowns('dr-a', [], 30)).toEqual([]);
      clock.t += 31_000;
      expect(await mine()).toEqual([]);
    });

    it("withdraws a reporter's trunk-down report when its trunk came back up after it, not another reporter's, not a later loss", async () => {
      const t0 = clock.t;
      await s.putTrunkDowns('cr-a', [{ node: 'cx', since: 500 }, { node: 'cy', since: 600 }, { node: 'cz', since: 700 }], 30);
      await s.putTrunkDowns('cr-b', [{ node: 'cx', since: 510 }], 30);
      const mine = async () => (await s.listTrunkDowns()).filter((d) => d.reporter.startsWith('cr-')).map((d) => `${d.node}/${d.reporter}/${d.since}`).sort();
      clock.t += 1000;
      // cx back up since 800 (after its loss at 500); cy up since 600 and cz since 650: not after their losses, they stay.
      expect(await s.clearTrunkDowns('cr-a', [{ node: 'cx', since: 800 }, { node: 'cy', since: 600 }, { node: 'cz', since: 650 }, { node: 'never', since: 900 }])).toEqual([{ node: 'cx', reporter: 'cr-a', since: 500, at: t0 }]);
      expect(await mine()).toEqual(['cx/cr-b/510', 'cy/cr-a/600', 'cz/cr-a/700']);
      expect(await s.clearTrunkDowns('cr-a', [{ node: 'cx', since: 800 }])).toEqual([]);
      expect(await s.clearTrunkDowns('cr-a', [])).toEqual([]);
      // Withdrawn, the same loss told again is news (a report built before the trunk came back).
      expect(await s.putTrunkDowns('cr-a', [{ node: 'cx', since: 500 }], 30)).toEqual([{ node: 'cx', reporter: 'cr-a', since: 500, at: clock.t }]);
      expect(await s.clearTrunkDowns('cr-b', [{ node: 'cx', since: 511 }, { node: 'cy', since: 9_000 }])).toEqual([{ node: 'cx', reporter: 'cr-b', since: 510, at: t0 }]);
      expect(await mine()).toEqual(['cx/cr-a/500', 'cy/cr-a/600', 'cz/cr-a/700']);
      // An entry past its ttl is gone already: nothing withdrawn.
      clock.t += 31_000;
      expect(await s.clearTrunkDowns('cr-a', [{ node: 'cy', since: 9_000 }])).toEqual([]);
      expect(await mine()).toEqual([]);
    });

    it(`keeps at most maxTrunkDowns (${MAX_TRUNK_DOWNS_IN_TEST} here) trunk-down reports, also when two brokers add them at once: beyond, new ones are left out until old ones end`, async () => {
      const many = Array.from({ length: MAX_TRUNK_DOWNS_IN_TEST - 2 }, (_, i) => ({ node: `fn${i}`, since: 1 }));
      expect(await s.putTrunkDowns('flood', many, 20)).toHaveLength(MAX_TRUNK_DOWNS_IN_TEST - 2);
      // 32 new ones from both brokers at once: 2 are kept.
      const made = await Promise.all(Array.from({ length: 32 }, (_, i) => [s, s2][i % 2]!.putTrunkDowns(`both${i}`, [{ node: 'fn0', since: 1 }], 20)));
      expect(made.flat()).toHaveLength(2);
      expect(await s.putTrunkDowns('late', [{ node: 'fn0', since: 1 }], 20)).toEqual([]);
      // An entry already kept is still renewed by a new loss.
      expect(await s.putTrunkDowns('flood', [{ node: 'fn1', since: 2 }], 20)).toHaveLength(1);
      expect(await s.listTrunkDowns()).toHaveLength(MAX_TRUNK_DOWNS_IN_TEST);
      clock.t += 21_000;
      expect(await s.putTrunkDowns('late', [{ node: 'fn0', since: 1 }], 20)).toEqual([{ node: 'fn0', reporter: 'late', since: 1, at: clock.t }]);
      clock.t += 21_000;
      expect(await s.listTrunkDowns()).toEqual([]);
    });

    it("keeps a reporter's newest loss, made once and withdrawn once, when two brokers race its puts and clears", async () => {
      clock.t += 3_600_000; // what earlier tests kept has ended
      // A heartbeat failed over to the other broker while one is in flight: both brokers handle
      // the same report at once. Every node was lost since 1 and is back up since 2; half went
      // down again since 3. Each call first waits 0–3 round trips to its store, so the two
      // brokers' calls overlap in many orders (a read-then-write store fails the news-once
      // check every run here, the table check only in some: the next test plays that order).
      const nodes = Array.from({ length: 128 }, (_, i) => ({ node: `rn${i}`, lostAgain: i >= 64, putDelay: i % 4, clearDelay: (i >> 2) % 4, putOn: (i >> 4) & 1, clearOn: (i >> 5) & 1 }));
      const brokers = [s, s2] as const;
      await s.putTrunkDowns('racer', nodes.map(({ node }) => ({ node, since: 1 })), 60);
      const after = async (store: BrokerStore, trips: number) => {
        for (let i = 0; i < trips; i++) await store.ping();
      };
      const calls = nodes.flatMap(({ node, lostAgain, putDelay, clearDelay, putOn, clearOn }) => [
        ...[clearOn, 1 - clearOn].map(async (b, k) => {
          await after(brokers[b]!, (clearDelay + 2 * k) % 4);
          return { node, put: false, got: await brokers[b]!.clearTrunkDowns('racer', [{ node, since: 2 }]) };
        }),
        ...(lostAgain ? [putOn, 1 - putOn] : []).map(async (b, k) => {
          await after(brokers[b]!, (putDelay + 2 * k) % 4);
          return { node, put: true, got: await brokers[b]!.putTrunkDowns('racer', [{ node, since: 3 }], 60) };
        }),
      ]);
      const results = await Promise.all(calls);
      const sinces = (node: string, put: boolean) => results.filter((r) => r.node === node && r.put === put).flatMap((r) => r.got.map((d) => d.since));
      // The table is what the newest report of each node says: a loss since 3, or none.
      const kept = (await s2.listTrunkDowns()).filter((d) => d.reporter === 'racer').map((d) => `${d.node}/${d.since}`).sort();
      expect.soft(kept).toEqual(nodes.filter((n) => n.lostAgain).map((n) => `${n.node}/3`).sort());
      // The new loss is news once (one log line, one suspicion), however many brokers heard it.
      expect.soft(nodes.filter((n) => sinces(n.node, true).join() !== (n.lostAgain ? '3' : '')).map((n) => n.node)).toEqual([]);
      // The old loss is withdrawn once (one count of el_broker_trunk_losses_withdrawn_total), or
      // not at all when the new loss replaced it first.
      expect.soft(nodes.filter((n) => !(n.lostAgain ? ['', '1'] : ['1']).includes(sinces(n.node, false).join())).map((n) => n.node)).toEqual([]);
    });

    it("plays the two brokers' races on one reporter's entry in the orders that broke it: a new loss is kept, made once, an old one withdrawn once", async () => {
      clock.t += 3_600_000;
      // Each call starts once the one before waits at the gate, so its reads see the table
      // before the earlier call's write; then the writes go in that order. Without a gate
      // (memory) every call is one step when it starts, in the same order.
      const inOrder = async (...calls: Array<() => Promise<TrunkDownRecord[]>>): Promise<number[][]> => {
        const g = gate?.();
        const running: Array<Promise<TrunkDownRecord[]>> = [];
        if (g) await g.hold();
        try {
          for (const [i, call] of calls.entries()) {
            running.push(call());
            await g?.waiting(i + 1);
          }
        } finally {
          await g?.release();
          await Promise.allSettled(running);
        }
        return (await Promise.all(running)).map((made) => made.map((d) => d.since));
      };
      // Both scripts known to Redis before the gate: a first call may go twice (EVALSHA, then EVAL).
      await s.putTrunkDowns('gr', ['gx', 'gy', 'gz'].map((node) => ({ node, since: 1 })), 60);
      await s2.clearTrunkDowns('gr', [{ node: 'none', since: 1 }]);
      // gx back up since 2 and down again since 3: the withdrawal read before the new loss was written, and deletes after.
      expect.soft(await inOrder(() => s.putTrunkDowns('gr', [{ node: 'gx', since: 3 }], 60), () => s2.clearTrunkDowns('gr', [{ node: 'gx', since: 2 }]))).toEqual([[3], []]);
      // gy down again since 3, told to both brokers: news once.
      expect.soft(await inOrder(() => s.putTrunkDowns('gr', [{ node: 'gy', since: 3 }], 60), () => s2.putTrunkDowns('gr', [{ node: 'gy', since: 3 }], 60))).toEqual([[3], []]);
      // gz back up since 2, told to both brokers: withdrawn once.
      expect.soft(await inOrder(() => s.clearTrunkDowns('gr', [{ node: 'gz', since: 2 }]), () => s2.clearTrunkDowns('gr', [{ node: 'gz', since: 2 }]))).toEqual([[1], []]);
      expect.soft((await s.listTrunkDowns()).filter((d) => d.reporter === 'gr').map((d) => `${d.node}/${d.since}`).sort()).toEqual(['gx/3', 'gy/3']);
    });

    it(`scans a full trunk-down table for ended entries at most once per ${TRUNK_DOWNS_SWEEP_MS} ms, by either broker: a table full of live entries does not cost a scan at every new loss`, async () => {
      clock.t += 3_600_000;
      await s.listTrunkDowns(); // drops what earlier tests left, ended by now
      const t0 = clock.t;
      const full = Array.from({ length: MAX_TRUNK_DOWNS_IN_TEST }, (_, i) => ({ node: `sw${i}`, since: 1 }));
      expect(await s.putTrunkDowns('sweep', full, 1)).toHaveLength(MAX_TRUNK_DOWNS_IN_TEST);
      // Full of live entries: the table is scanned, nothing has ended, the new loss is left out.
      clock.t = t0 + 500;
      expect(await s.putTrunkDowns('new', [{ node: 'sw0', since: 1 }], 60)).toEqual([]);
      // Every entry has ended, but the last scan was 700 ms ago, at either broker: still left out.
      clock.t = t0 + 1200;
      expect(await s2.putTrunkDowns('new', [{ node: 'sw0', since: 1 }], 60)).toEqual([]);
      expect(await s.putTrunkDowns('new', [{ node: 'sw1', since: 1 }], 60)).toEqual([]);
      // A second after the scan: scanned again, the ended entries go, the loss is kept.
      clock.t = t0 + 500 + TRUNK_DOWNS_SWEEP_MS;
      expect(await s2.putTrunkDowns('new', [{ node: 'sw0', since: 1 }], 60)).toEqual([{ node: 'sw0', reporter: 'new', since: 1, at: clock.t }]);
      expect((await s.listTrunkDowns()).filter((d) => d.reporter === 'new' || d.reporter === 'sweep').map((d) => `${d.node}/${d.reporter}`)).toEqual(['sw0/new']);
    });

    it('keeps the latest console report of each node until it is not refreshed for its retain time', async () => {
      const report = (rx: number) => ({ traffic: { rxBytes: rx, txBytes: 0, rxFrames: 0, txFrames: 0 }, drops: {}, segments: {}, sessions: [], table: [] });
      await s.putNodeReport('ra', report(1), 60);
      await s.putNodeReport('rb', report(2), 60);
      clock.t += 1000;
      await s.putNodeReport('ra', report(3), 60);
      const got = (await s.listNodeReports()).sort((x, y) => x.node.localeCompare(y.node));
      expect(got.map((r) => [r.node, r.report.traffic.rxBytes, r.at])).toEqual([['ra', 3, clock.t], ['rb', 2, clock.t - 1000]]);
      clock.t += 59_500;
      expect((await s.listNodeReports()).map((r) => r.node)).toEqual(['ra']);
      clock.t += 1000;
      expect(await s.listNodeReports()).toEqual([]);
    });

    it('keeps bounded lists: newest first, trimmed to their length, taken oldest first exactly once', async () => {
      const list = `l${n++}`;
      for (let i = 1; i <= 5; i++) await s.pushList(list, `v${i}`, 3, 60);
      expect(await s.readList(list, 10)).toEqual(['v5', 'v4', 'v3']);
      expect(await s.readList(list, 2)).toEqual(['v5', 'v4']);
      const [a, b] = await Promise.all([s.takeList(list, 2), s.takeList(list, 2)]);
      // Two takers at once: each value goes to one of them.
      expect([...a, ...b].sort()).toEqual(['v3', 'v4', 'v5']);
      expect(a.length === 2 ? a : b).toEqual(['v3', 'v4']);
      expect(await s.takeList(list, 2)).toEqual([]);
      expect(await s.readList(list, 10)).toEqual([]);
      expect(await s.readList('never-pushed', 10)).toEqual([]);
    });

    it('keeps a device key per user and device for its time, refreshed by a new put; the oldest gives way in a full table', async () => {
      const k1 = 'A'.repeat(43);
      const k2 = 'B'.repeat(42) + 'A';
      await s.putDeviceKey('dk-amy', 'laptop', k1, 60);
      await s.putDeviceKey('dk-amy', 'phone', k2, 120);
      expect(await s.getDeviceKey('dk-amy', 'laptop')).toBe(k1);
      expect(await s.getDeviceKey('dk-amy', 'phone')).toBe(k2);
      expect(await s.getDeviceKey('dk-amy', 'tablet')).toBeUndefined();
      expect(await s.getDeviceKey('dk-bob', 'laptop')).toBeUndefined();
      clock.t += 61_000;
      expect(await s.getDeviceKey('dk-amy', 'laptop')).toBeUndefined();
      expect(await s.getDeviceKey('dk-amy', 'phone')).toBe(k2);
      await s.putDeviceKey('dk-amy', 'phone', k1, 120); // a new key replaces the old one
      expect(await s.getDeviceKey('dk-amy', 'phone')).toBe(k1);
      // A full table: the key nearest its end gives way, the rest stay.
      for (let i = 0; i < MAX_DEVICE_KEYS_PER_USER; i++) await s.putDeviceKey('dk-many', `d${i}`, k1, 1000 + i);
      await s.putDeviceKey('dk-many', 'new', k2, 5000);
      expect(await s.getDeviceKey('dk-many', 'new')).toBe(k2);
      expect(await s.getDeviceKey('dk-many', 'd0')).toBeUndefined();
      expect(await s.getDeviceKey('dk-many', 'd1')).toBe(k1);
      // 32 new devices from both brokers at once on a table two short of full: each beyond
      // the bound takes the place of the key nearest its end; never more than the bound.
      const old = Array.from({ length: MAX_DEVICE_KEYS_PER_USER - 2 }, (_, i) => `o${i}`);
      for (const [i, d] of old.entries()) await s.putDeviceKey('dk-race', d, k1, 1000 + i);
      const racers = Array.from({ length: 32 }, (_, i) => `r${i}`);
      await Promise.all(racers.map((d, i) => [s, s2][i % 2]!.putDeviceKey('dk-race', d, k2, 5000)));
      const held = async (devices: string[]) => (await Promise.all(devices.map((d) => s.getDeviceKey('dk-race', d)))).filter((k) => k !== undefined).length;
      expect(await held(racers)).toBe(32);
      expect(await held(old)).toBe(MAX_DEVICE_KEYS_PER_USER - 32);
      expect(await held(old.slice(0, 30))).toBe(0);
    });

    it('revokes one device key or every key of a user, and lists revocations until they end', async () => {
      const k = 'C'.repeat(43);
      const at = Math.floor(clock.t / 1000);
      await s.putDeviceKey('rv-amy', 'laptop', k, 600);
      await s.putDeviceKey('rv-amy', 'phone', k, 600);
      await s.putDeviceKey('rv-bob', 'laptop', k, 600);
      expect(await s.revoke({ user: 'rv-amy', device: 'laptop', at, until: at + 60 })).toBe(1);
      expect(await s.getDeviceKey('rv-amy', 'laptop')).toBeUndefined();
      expect(await s.getDeviceKey('rv-amy', 'phone')).toBe(k);
      expect(await s.revoke({ user: 'rv-bob', at, until: at + 120 })).toBe(1);
      expect(await s.getDeviceKey('rv-bob', 'laptop')).toBeUndefined();
      expect(await s.revoke({ user: 'rv-nobody', device: 'x', at, until: at + 60 })).toBe(0);
      const mine = (await s.listRevocations()).filter((r) => r.user.startsWith('rv-'));
      expect(mine).toEqual(
        expect.arrayContaining([
          { user: 'rv-amy', device: 'laptop', at, until: at + 60 },
          { user: 'rv-bob', at, until: at + 120 },
          { user: 'rv-nobody', device: 'x', at, until: at + 60 },
        ]),
      );
      expect(mine).toHaveLength(3);
      clock.t += 61_000;
      expect((await s.listRevocations()).filter((r) => r.user.startsWith('rv-'))).toEqual([{ user: 'rv-bob', at, until: at + 120 }]);
      clock.t += 60_000;
      expect((await s.listRevocations()).filter((r) => r.user.startsWith('rv-'))).toEqual([]);
    });

    it(`holds at most ${MAX_REVOCATIONS} live revocations: more are refused with EL_ERR_UNAVAILABLE until some end`, async () => {
      const at = Math.floor(clock.t / 1000);
      for (let i = (await s.listRevocations()).length; i < MAX_REVOCATIONS; i++) await s.revoke({ user: `full-${i}`, at, until: at + 30 });
      await expect(s.revoke({ user: 'one-more', at, until: at + 30 })).rejects.toMatchObject({ code: 'EL_ERR_UNAVAILABLE' });
      clock.t += 31_000;
      expect(await s.revoke({ user: 'one-more', at, until: at + 60 })).toBe(0);
      expect((await s.listRevocations()).map((r) => r.user)).toContain('one-more');
      // Two short of full, 32 revocations from both brokers at once: 2 are recorded, the rest refused.
      const now = Math.floor(clock.t / 1000);
      for (let i = (await s.listRevocations()).length; i < MAX_REVOCATIONS - 2; i++) await s.revoke({ user: `full2-${i}`, at: now, until: now + 30 });
      const raced = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => [s, s2][i % 2]!.revoke({ user: `race-${i}`, at: now, until: now + 30 })));
      expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      for (const r of raced) if (r.status === 'rejected') expect((r.reason as ElError).code).toBe('EL_ERR_UNAVAILABLE');
      expect(await s.listRevocations()).toHaveLength(MAX_REVOCATIONS);
    });

    it('stores users', async () => {
      await s.putUser({ name: 'zed', passwordHash: '$scrypt$x', segments: ['lan'], digestSecret: 'sekrit' });
      await s.putUser({ name: 'amy', passwordHash: '$scrypt$y', segments: ['lan'] });
      expect(await s.getUser('zed')).toEqual({ name: 'zed', passwordHash: '$scrypt$x', segments: ['lan'], digestSecret: 'sekrit' });
      expect((await s.listUsers()).map((u) => u.name)).toEqual(['amy', 'zed']);
      expect(await s.deleteUser('zed')).toBe(true);
      expect(await s.getUser('zed')).toBeUndefined();
    });
  });
}

contract('MemoryStore', {
  make: async (clock) => new MemoryStore({ now: () => clock.t, maxCounters: MAX_COUNTERS_IN_TEST, maxTrunkDowns: MAX_TRUNK_DOWNS_IN_TEST }),
  // A memory store lives in its one broker's process: a second broker on it is the same object.
  again: async (first) => first,
});

/** RedisStores on `config`, connected (the second broker's too); writes held on `masters`. */
function redisBackend(config: () => RedisStoreConfig, masters: () => Array<{ host: string; port: number }>): Backend {
  const make = async (clock: Clock) => {
    const store = new RedisStore(config(), () => clock.t, { maxCounters: MAX_COUNTERS_IN_TEST, maxTrunkDowns: MAX_TRUNK_DOWNS_IN_TEST });
    expect(await store.waitReady()).toBe(true);
    return store;
  };
  return { make, again: (_, clock) => make(clock), gate: () => writeGate(masters()) };
}

describe.skipIf(!haveRedis)('RedisStore on a real redis-server', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.destroy();
  });
  contract('RedisStore', redisBackend(() => ({ type: 'redis', url: redis.url }), () => [{ host: '127.0.0.1', port: redis.port }]));

  it('fails a request with EL_ERR_UNAVAILABLE after the command timeout while Redis hangs (SIGSTOP), and works again on SIGCONT', async () => {
    const store = new RedisStore({ type: 'redis', url: redis.url });
    try {
      await store.waitReady();
      await store.claim('hang', 'k', 'ipv4', '198.19.0.2', 60);
      redis.pause();
      const t0 = performance.now();
      const err = await store.get('hang', 'k').then(
        () => undefined,
        (e: unknown) => e,
      );
      const waited = performance.now() - t0;
      redis.resume();
      expect(err).toMatchObject({ code: 'EL_ERR_UNAVAILABLE' });
      expect((err as Error).message).toMatch(/timed out/i);
      // It waited for the timeout (not an instant refusal); the figure goes to docs/broker.md.
      expect(waited).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50);
      if (process.env.ELINK_MEASURE) console.log(`hung Redis: request failed after ${waited.toFixed(0)} ms`);
      expect(await store.get('hang', 'k')).toEqual({ ipv4: '198.19.0.2' });
    } finally {
      redis.resume();
      await store.close();
    }
  });

  it('answers EL_ERR_UNAVAILABLE while Redis is down and recovers by itself', async () => {
    const store = new RedisStore({ type: 'redis', url: redis.url });
    try {
      await store.waitReady();
      await store.claim('outage', 'k', 'ipv4', '198.19.0.2', 60);
      await redis.stop();
      await expect(store.get('outage', 'k')).rejects.toMatchObject({ code: 'EL_ERR_UNAVAILABLE' });
      await expect(store.ping()).rejects.toMatchObject({ code: 'EL_ERR_UNAVAILABLE' });
      await redis.start();
      // Reconnects within about a second; bounded wait.
      const deadline = Date.now() + 10_000;
      let ok = false;
      while (!ok && Date.now() < deadline) ok = await store.ping().then(() => true, () => false);
      expect(ok).toBe(true);
      // A fresh server without persistence: the lease is gone, the store works again.
      expect(await store.claim('outage', 'k', 'ipv4', '198.19.0.2', 60)).toBe('198.19.0.2');
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!haveRedis)('RedisStore on a real redis-server with a password (requirepass)', () => {
  const PASSWORD = 'a-redis-password-from-a-secret';
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis(['--requirepass', PASSWORD]);
  });
  afterAll(async () => {
    await redis?.destroy();
  });

  it('works with the password given apart from the URL, and answers EL_ERR_UNAVAILABLE without it', async () => {
    const store = new RedisStore({ type: 'redis', url: redis.url, password: PASSWORD });
    const anonymous = new RedisStore({ type: 'redis', url: redis.url });
    try {
      expect(await store.waitReady()).toBe(true);
      expect(await store.claim('auth', 'k', 'ipv4', '198.19.0.2', 60)).toBe('198.19.0.2');
      await expect(anonymous.get('auth', 'k')).rejects.toMatchObject({ code: 'EL_ERR_UNAVAILABLE' });
    } finally {
      await store.close();
      await anonymous.close();
    }
  });
});

describe.skipIf(!haveRedis)('RedisStore through a real Sentinel (master, replica, sentinel)', () => {
  let sentinel: TestSentinel;
  beforeAll(async () => {
    sentinel = await startTestSentinel();
  }, 30_000);
  afterAll(async () => {
    await sentinel?.destroy();
  });
  contract('RedisStore (Sentinel)', redisBackend(() => ({ type: 'redis', sentinels: sentinel.sentinels, name: sentinel.name }), () => [{ host: '127.0.0.1', port: sentinel.masterPort() }]));

  it('works again by itself after a failover to the replica', async () => {
    const store = new RedisStore({ type: 'redis', sentinels: sentinel.sentinels, name: sentinel.name, prefix: 'fo' });
    try {
      expect(await store.waitReady()).toBe(true);
      expect(await store.claim('lan', 'k1', 'ipv4', '198.19.0.2', 60)).toBe('198.19.0.2');
      const before = sentinel.masterPort();
      const after = await sentinel.failover();
      expect(after).not.toBe(before);
      // Writes go to the new master without a restart of the store; bounded wait.
      const deadline = Date.now() + 15_000;
      let got: string | undefined;
      while (got === undefined && Date.now() < deadline) {
        got = await store.claim('lan', 'k2', 'ipv4', '198.19.0.3', 60).catch(() => undefined);
        if (got === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      expect(got).toBe('198.19.0.3');
      // The lease written before the failover was replicated and is still held.
      expect(await store.get('lan', 'k1')).toEqual({ ipv4: '198.19.0.2' });
      expect(await store.claim('lan', 'k3', 'ipv4', '198.19.0.2', 60)).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 40_000);
});

describe.skipIf(!haveRedis)('RedisStore on a real 3-master Redis Cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
  }, 30_000);
  afterAll(async () => {
    await cluster?.destroy();
  });
  contract('RedisStore (Cluster)', redisBackend(() => ({ type: 'redis', cluster: cluster.nodes }), () => cluster.nodes));
});

describe('MemoryStore snapshot', () => {
  it('keeps leases, users and lists (the audit log) across a restart, and drops what expired', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elink-snap-'));
    const file = join(dir, 'store.json');
    let t = 1_000_000;
    try {
      const a = new MemoryStore({ snapshotFile: file, now: () => t });
      await a.claim('lan', 'k1', 'ipv4', '198.19.0.2', 60);
      await a.claim('lan', 'k1', 'ipv6', 'fd00:e1::2', 60);
      await a.claim('lan', 'short', 'ipv4', '198.19.0.3', 1);
      await a.putUser({ name: 'amy', passwordHash: '$scrypt$y', segments: ['lan'] });
      await a.putDeviceKey('amy', 'laptop', 'A'.repeat(43), 60);
      await a.putDeviceKey('amy', 'phone', 'A'.repeat(43), 60);
      await a.revoke({ user: 'amy', device: 'phone', at: 1000, until: 1100 });
      await a.pushList('audit', 'first', 10, 3600);
      await a.pushList('audit', 'second', 10, 3600);
      await a.pushList('cmd:gone', 'x', 10, 1);
      t += 2000;
      await a.close();
      const b = new MemoryStore({ snapshotFile: file, now: () => t });
      expect(await b.get('lan', 'k1')).toEqual({ ipv4: '198.19.0.2', ipv6: 'fd00:e1::2' });
      expect(await b.get('lan', 'short')).toBeUndefined();
      expect(await b.claim('lan', 'other', 'ipv4', '198.19.0.2', 60)).toBeUndefined();
      expect((await b.getUser('amy'))?.segments).toEqual(['lan']);
      // A revoked key stays revoked across a restart, and so does the revocation.
      expect(await b.getDeviceKey('amy', 'laptop')).toBe('A'.repeat(43));
      expect(await b.getDeviceKey('amy', 'phone')).toBeUndefined();
      expect(await b.listRevocations()).toEqual([{ user: 'amy', device: 'phone', at: 1000, until: 1100 }]);
      // The audit log survives a restart; an expired list does not.
      expect(await b.readList('audit', 10)).toEqual(['second', 'first']);
      expect(await b.readList('cmd:gone', 10)).toEqual([]);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a snapshot that cannot be written is reported and retried with backoff, never thrown from its timer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elink-snap-'));
    // A file where the snapshot's directory should be: every write fails (ENOTDIR/EEXIST) until it is gone.
    const blocker = join(dir, 'blocked');
    writeFileSync(blocker, 'not a directory');
    const file = join(blocker, 'store.json');
    const errors: Array<{ err: Error; retry: number }> = [];
    const store = new MemoryStore({ snapshotFile: file, snapshotDelayMs: 5, onSnapshotError: (err, retry) => errors.push({ err, retry }) });
    try {
      await store.claim('lan', 'k1', 'ipv4', '198.19.0.2', 60);
      const deadline = Date.now() + 10_000;
      while (errors.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(errors.length).toBeGreaterThanOrEqual(3);
      expect(store.snapshotFailures).toBe(errors.length);
      // Backoff: each retry waits longer than the one before.
      expect(errors[1]!.retry).toBeGreaterThan(errors[0]!.retry);
      expect(errors[2]!.retry).toBeGreaterThan(errors[1]!.retry);
      rmSync(blocker);
      while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(existsSync(file)).toBe(true);
      expect(store.snapshotsSaved).toBe(1);
      expect(JSON.parse(readFileSync(file, 'utf8')).leases.lan[0].ipv4).toBe('198.19.0.2');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
