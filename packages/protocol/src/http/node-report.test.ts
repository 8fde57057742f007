import { describe, expect, it } from 'vitest';
import { heartbeatReplySchema, heartbeatRequestSchema } from './heartbeat.js';
import { MAX_REPORT_SESSIONS, MAX_REPORT_TABLE, nodeCommandSchema, nodeReportSchema } from './node-report.js';

const base = { traffic: { rxBytes: 0, txBytes: 0, rxFrames: 0, txFrames: 0 }, drops: {}, segments: {}, sessions: [], table: [] };
const session = { id: 's-1', user: 'alice', segment: 'lab', addresses: [], since: 0, rxBytes: 0, txBytes: 0 };
const entry = { segment: 'lab', key: '02:00:00:00:00:01', port: 's-1' };

describe('node report contract', () => {
  it('caps its lists and refuses unknown fields and fractions', () => {
    expect(nodeReportSchema.safeParse({ ...base, sessions: Array(MAX_REPORT_SESSIONS).fill(session) }).success).toBe(true);
    expect(nodeReportSchema.safeParse({ ...base, sessions: Array(MAX_REPORT_SESSIONS + 1).fill(session) }).success).toBe(false);
    expect(nodeReportSchema.safeParse({ ...base, table: Array(MAX_REPORT_TABLE + 1).fill(entry) }).success).toBe(false);
    expect(nodeReportSchema.safeParse({ ...base, drops: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`r${i}`, 1])) }).success).toBe(false);
    expect(nodeReportSchema.safeParse({ ...base, extra: 1 }).success).toBe(false);
    expect(nodeReportSchema.safeParse({ ...base, traffic: { ...base.traffic, rxBytes: 1.5 } }).success).toBe(false);
    expect(nodeReportSchema.safeParse({ ...base, sessions: [{ ...session, password: 'x' }] }).success).toBe(false);
  });

  it('rides in the heartbeat as `report`; commands come back in the reply', () => {
    const hb = { node: 'n', hosts: ['h'], port: 1, capacity: 1, sessions: 0, segments: [], active: [], draining: false };
    expect(heartbeatRequestSchema.parse({ ...hb, report: base }).report).toEqual(base);
    expect(heartbeatRequestSchema.safeParse(hb).success).toBe(true);
    const reply = { keys: ['-----BEGIN PUBLIC KEY-----x'], segments: [], heartbeatSeconds: 5, commands: [{ type: 'kick', session: 's-1', reason: 'r' }, { type: 'drain' }] };
    expect(heartbeatReplySchema.parse(reply).commands).toHaveLength(2);
    expect(nodeCommandSchema.safeParse({ type: 'reboot' }).success).toBe(false);
    expect(heartbeatReplySchema.safeParse({ ...reply, commands: Array(65).fill({ type: 'drain' }) }).success).toBe(false);
  });
});
