/**
 * Which trunk losses a node tells its brokers of at once (TrunkHub.onPeerLost, peer-lost.ts),
 * over a real TLS trunk between two nodes in one process: a peer whose connection closes
 * under us (as a killed process's kernel closes it) and a dial refused by a node never
 * reached are told; a peer that ends the trunk on purpose (its shutdown) is not. A trunk back
 * up to a peer a report listed down is told (TrunkHub.onPeerBack), an ordinary up is not.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { nodeReportSchema } from '@elink/protocol';
import { useSwitchHarness, segment } from '../testing/test-node.js';
import { nodeReport } from '../node/node-report.js';
import { peerMayBeGone, type PeerLostReason } from './peer-lost.js';
import { TRUNK_DOWN_REASONS } from './trunk.js';

const SECRET = 'trunk-secret-0123456789';

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a trunk peer lost', () => {
  const h = useSwitchHarness();

  it('names the reasons that say the peer may be gone: closed under us or silent, nothing else', () => {
    expect(TRUNK_DOWN_REASONS.filter(peerMayBeGone)).toEqual(['timeout', 'peer_closed']);
  });

  it('is told when the connection closes under us, not when the peer shuts down on purpose', async () => {
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1' } });
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', peers: [`127.0.0.1:${b.node.trunks!.address().port}`], reconnectMinMs: 20, reconnectMaxMs: 200 } });
    const told: Array<[string, PeerLostReason]> = [];
    // The report of the heartbeat a loss sends early, built when A hears of it (A redials
    // within 20 ms: a report read later may find the trunk up again).
    let atLoss: ReturnType<typeof nodeReport> | undefined;
    a.node.trunks!.onPeerLost((peer, reason) => {
      told.push([peer, reason]);
      atLoss ??= nodeReport(a.node);
    });
    await until(() => a.node.trunks!.upCount === 1);

    // B's socket goes without a word (no error record), as when its process is killed.
    const before = Date.now();
    b.node.trunks!.trunkTo('node-a')!.conn.destroy();
    await until(() => told.length === 1);
    expect(told).toEqual([['node-b', 'peer_closed']]);
    // The heartbeat's report says since when.
    const down = nodeReportSchema.parse(atLoss).trunks!.find((t) => t.peer === 'node-b')!;
    expect(down.state).toBe('down');
    expect(down.since).toBeGreaterThanOrEqual(before);

    // It comes back (A redials); then B shuts down: it says so (an error record), A is not told.
    await until(() => a.node.trunks!.upCount === 1);
    await b.node.stop();
    await until(() => a.node.trunks!.upCount === 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(told).toEqual([['node-b', 'peer_closed']]);
  });

  it('tells a trunk back up to a peer a report listed down (the brokers hold that loss), not a first up nor one back before any report', async () => {
    const b = await h.node({ nodeId: 'node-b', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1' } });
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', peers: [`127.0.0.1:${b.node.trunks!.address().port}`], reconnectMinMs: 20, reconnectMaxMs: 200 } });
    const back: string[] = [];
    let lost = 0;
    // The heartbeat a loss sends early, built when A hears of it (the trunk down for sure then).
    let reportOnLoss = false;
    let reported: string | undefined;
    a.node.trunks!.onPeerLost(() => {
      lost++;
      if (reportOnLoss) reported = nodeReport(a.node).trunks!.find((t) => t.peer === 'node-b')?.state;
    });
    a.node.trunks!.onPeerBack((peer) => back.push(peer));
    await until(() => a.node.trunks!.upCount === 1);
    // A first trunk: nothing to withdraw.
    expect(back).toEqual([]);

    // Down and back before any heartbeat listed it down: the brokers heard nothing, nothing to tell.
    b.node.trunks!.trunkTo('node-a')!.conn.destroy();
    await until(() => lost === 1);
    await until(() => a.node.trunks!.upCount === 1);
    expect(back).toEqual([]);

    // Down, a heartbeat's report lists it down, then back: told once.
    reportOnLoss = true;
    b.node.trunks!.trunkTo('node-a')!.conn.destroy();
    await until(() => lost === 2);
    expect(reported).toBe('down');
    await until(() => back.length === 1);
    expect(back).toEqual(['node-b']);
    expect(nodeReport(a.node).trunks!.find((t) => t.peer === 'node-b')).toMatchObject({ state: 'up' });

    // Once told, the next drop and return without a report is quiet again.
    reportOnLoss = false;
    b.node.trunks!.trunkTo('node-a')!.conn.destroy();
    await until(() => lost === 3);
    await until(() => a.node.trunks!.upCount === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(back).toEqual(['node-b']);
  });

  it('is told when a node the broker named refuses the dial before it was ever reached, once', async () => {
    // A port with nothing listening: bound, then closed.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const a = await h.node({ nodeId: 'node-a', segments: [segment({ name: 'lan' })], trunk: { secret: SECRET, port: 0, host: '127.0.0.1', reconnectMinMs: 20, reconnectMaxMs: 40 } });
    const told: Array<[string, PeerLostReason]> = [];
    a.node.trunks!.onPeerLost((peer, reason) => told.push([peer, reason]));
    a.node.trunks!.setPeers([{ node: 'node-z', hosts: ['127.0.0.1'], port }]);
    await until(() => told.length >= 1);
    // Several redials later, still one.
    await new Promise((r) => setTimeout(r, 300));
    expect(told).toEqual([['node-z', 'refused']]);
    expect(nodeReport(a.node).trunks!.find((t) => t.peer === 'node-z')).toMatchObject({ state: 'down' });
  });
});
