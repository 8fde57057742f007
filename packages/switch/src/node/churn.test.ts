/**
 * The soak test (`npm run soak`) scaled to seconds: connect/disconnect churn beside idle
 * sessions must leave nothing behind — every table back to where it was, the idle
 * sessions untouched. What a slow leak per session would show in a long run, shown
 * here by counts.
 */
import { describe, it, expect } from 'vitest';
import { waitUntil, type TestClient } from '../testing/test-client.js';
import { segment, useSwitchHarness } from '../testing/test-node.js';
import { BROADCAST, ethFrame, mac } from '../testing/test-frames.js';

const { fx, clients, node } = useSwitchHarness();

const IDLE = 100;
const CHURN = 200;
const WAVE = 20;

describe('churn beside idle sessions', () => {
  it(`${CHURN} sessions coming and going (bye, dropped, never said hello, garbage) beside ${IDLE} idle ones leave every table as it was`, async () => {
    // 300 sessions from 127.0.0.1 within a second: churn, not admission, is under test here.
    const t = await node({ segments: [segment({ name: 'lan', macsPerSession: 4 })], connectionLimits: { pendingPerSource: 10_000, acceptRatePerSource: 10_000, acceptRate: 10_000 } });
    const idle: TestClient[] = [];
    for (let i = 0; i < IDLE; i += WAVE) {
      const wave = await Promise.all(
        Array.from({ length: WAVE }, async (_, j) => {
          const c = await t.connect();
          clients.push(c);
          await c.join(fx.ticket({ sub: `idle${i + j}` }), mac(1000 + i + j));
          return c;
        }),
      );
      idle.push(...wave);
    }
    const before = t.node.stats;
    expect(before.sessions).toBe(IDLE);

    const ended = { bye: 0, dropped: 0, silent: 0, garbage: 0 };
    let learnedMax = 0;
    for (let i = 0; i < CHURN; i += WAVE) {
      await Promise.all(
        Array.from({ length: WAVE }, async (_, j) => {
          const n = i + j;
          const c = await t.connect();
          clients.push(c);
          switch (n % 4) {
            case 0:
            case 1: {
              const own = mac(5000 + n);
              await c.join(fx.ticket({ sub: `churn${n}` }), own);
              // Two extra source MACs the table learns, a broadcast, and last a unicast to an idle session.
              c.sendFrames([ethFrame(BROADCAST, own + 0x100000, 'x'), ethFrame(BROADCAST, own + 0x200000, 'x'), ethFrame(BROADCAST, own, 'hello all'), ethFrame(mac(1000 + (n % IDLE)), own, `to-idle-${n}`)]);
              // Once the last frame arrived, the switch has processed the others: the MACs are learned.
              const target = idle[n % IDLE];
              await waitUntil(() => target.payloads().includes(`to-idle-${n}`), 'the unicast frame at its idle session');
              learnedMax = Math.max(learnedMax, t.node.stats.segments.lan.macEntries);
              if (n % 4 === 0) {
                c.send({ type: 'bye', reason: 'churn' });
                c.socket.end();
                ended.bye++;
              } else {
                c.destroy(); // dropped without a word
                ended.dropped++;
              }
              break;
            }
            case 2:
              c.destroy(); // TLS up, never a hello
              ended.silent++;
              break;
            case 3:
              c.sendRaw(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
              expect((await c.expectError()).code).toBe('EL_ERR_UNKNOWN_RECORD');
              ended.garbage++;
              break;
          }
        }),
      );
    }

    await waitUntil(() => t.node.stats.sessions === IDLE && t.node.stats.segments.lan.ports === before.segments.lan.ports, 'the churned sessions to be gone', 10_000);
    const after = t.node.stats;
    expect(after.established).toBe(IDLE);
    // The extra MACs the churned sessions used were learned (the table did grow) and forgotten with them.
    expect(learnedMax).toBeGreaterThan(before.segments.lan.macEntries);
    expect(after.segments.lan.macEntries).toBe(before.segments.lan.macEntries);
    expect(after.opened - before.opened).toBe(ended.bye + ended.dropped);
    expect(after.closed.client_bye ?? 0).toBe(ended.bye);
    expect(after.errors.EL_ERR_UNKNOWN_RECORD).toBe(ended.garbage);
    // The idle sessions: none closed, each got its unicast frames and every broadcast.
    expect(idle.filter((c) => c.closed)).toHaveLength(0);
    const unicastFor = (i: number) => Array.from({ length: CHURN }, (_, n) => n).filter((n) => n % 4 < 2 && n % IDLE === i).length;
    await waitUntil(() => idle.every((c, i) => c.payloads().filter((p) => p.startsWith('to-idle-')).length === unicastFor(i)), 'unicast frames at the idle sessions');
    await waitUntil(() => idle.every((c) => c.payloads().filter((p) => p === 'hello all').length === ended.bye + ended.dropped), 'broadcasts at the idle sessions');
    // And they still talk to each other.
    idle[0].sendFrames([ethFrame(mac(1001), mac(1000), 'still-here')]);
    await waitUntil(() => idle[1].payloads().includes('still-here'), 'idle to idle after the churn');
  });
});
