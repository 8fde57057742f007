/** A node's report read on the broker's clock (node-clock.ts): the console's copy. */
import { describe, expect, it } from 'vitest';
import type { NodeReport } from '@elink/protocol';
import { nodeClock, reportOnBrokerClock } from './node-clock.js';

const NOW = 1_764_500_000_000;
const zero = { rxBytes: 0, txBytes: 0, rxFrames: 0, txFrames: 0 };
const report = (t: number): NodeReport => ({
  traffic: zero,
  drops: {},
  segments: {},
  sessions: [{ id: 's-1', user: 'amy', segment: 'lan', addresses: [], since: t - 5000, rxBytes: 0, txBytes: 0 }],
  table: [],
  trunks: [{ peer: 'b', state: 'down', since: t - 200, segments: [], framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, drops: {}, announced: 0, learned: 0 }],
});

describe('reportOnBrokerClock', () => {
  it("puts the sessions' and trunks' since of a node 60 s behind or ahead on the broker's clock, the report itself untouched", () => {
    for (const skew of [-60_000, 60_000]) {
      const sent = report(NOW + skew);
      const seen = reportOnBrokerClock(sent, nodeClock(NOW + skew, NOW));
      expect(seen.sessions[0]!.since).toBe(NOW - 5000);
      expect(seen.trunks![0]!.since).toBe(NOW - 200);
      expect(sent.trunks![0]!.since).toBe(NOW + skew - 200);
    }
  });

  it('leaves a report without a reading (no EL-Node-Time) as it came', () => {
    const sent = report(NOW + 60_000);
    expect(reportOnBrokerClock(sent, nodeClock(undefined, NOW))).toBe(sent);
  });
});
