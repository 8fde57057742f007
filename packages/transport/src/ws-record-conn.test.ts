import { describe, expect, it } from 'vitest';
import { encodeRecord, RecordType, MAX_RECORD_PAYLOAD } from '@elink/protocol';
import { describeRecordConnContract } from './test-record-conn-contract.js';
import { until } from './test-frames.js';
import { wsRecordConnPair } from './test-ws.js';
import { WS_MAX_MESSAGE, WS_SEND_MESSAGE } from './ws-record-conn.js';

describeRecordConnContract('WebSocket over TLS (a: the accepted side, b: the connecting side)', async (opts) => {
  const pair = await wsRecordConnPair(opts);
  return {
    a: pair.server,
    b: pair.client,
    pauseB: () => pair.client.ws.pause(),
    resumeB: () => pair.client.ws.resume(),
    peerPattern: /^127\.0\.0\.1:\d+$/,
    messageFramed: true,
    close: pair.close,
  };
});

describeRecordConnContract('WebSocket over TLS (a: the connecting side, b: the accepted side)', async (opts) => {
  const pair = await wsRecordConnPair(opts);
  return {
    a: pair.client,
    b: pair.server,
    pauseB: () => pair.server.ws.pause(),
    resumeB: () => pair.server.ws.resume(),
    peerPattern: /^127\.0\.0\.1:\d+$/,
    messageFramed: true,
    close: pair.close,
  };
});

describe('WsRecordConn framing', () => {
  it('sends a batch larger than one message as several messages of whole records, nothing lost, also when the caller reuses the batch at once', async () => {
    const pair = await wsRecordConnPair();
    try {
      const messages: number[] = [];
      pair.server.ws.on('message', (m: Buffer) => messages.push(m.length));
      const got: number[] = [];
      pair.server.start({ onRecord: (_t, p) => got.push(p[0] === 9 && p[p.length - 1] === 9 ? p.length : -1), onError: (e) => got.push(-1 * e.message.length), onClose: () => {} });
      pair.client.start({ onRecord: () => {}, onError: () => {}, onClose: () => {} });
      pair.server.accept(RecordType.FRAME, MAX_RECORD_PAYLOAD);
      const one = encodeRecord(RecordType.FRAME, Buffer.alloc(MAX_RECORD_PAYLOAD, 9));
      const batch = Buffer.concat(Array.from({ length: 40 }, () => one)); // 2.6 MB
      pair.client.write(batch);
      batch.fill(0); // the client masked copies: what it sends is not the caller's memory
      await until(() => got.length === 40, '40 records');
      expect(got.every((n) => n === MAX_RECORD_PAYLOAD)).toBe(true);
      const perMessage = Math.max(1, Math.floor(WS_SEND_MESSAGE / one.length)); // as many whole records as fit
      expect(messages.length).toBe(Math.ceil(40 / perMessage));
      expect(messages.length).toBeGreaterThan(1);
      expect(messages.every((n) => n <= WS_SEND_MESSAGE && n % one.length === 0)).toBe(true);
      expect(WS_SEND_MESSAGE).toBeLessThanOrEqual(WS_MAX_MESSAGE);
    } finally {
      await pair.close();
    }
  });

  it('refuses a text message with EL_ERR_PROTOCOL', async () => {
    const pair = await wsRecordConnPair();
    try {
      const errors: string[] = [];
      pair.server.start({ onRecord: () => {}, onError: (e) => errors.push(e.code), onClose: () => {} });
      pair.client.start({ onRecord: () => {}, onError: () => {}, onClose: () => {} });
      pair.client.ws.send('{"type":"hello"}');
      await until(() => errors.length === 1, 'the error');
      expect(errors).toEqual(['EL_ERR_PROTOCOL']);
    } finally {
      await pair.close();
    }
  });
});
