/**
 * RecordConn.channelBinding(): RFC 9266 tls-exporter on real TLS (the same 32 bytes at
 * both ends, different on every connection, none below TLS 1.3), and the in-memory pair's
 * stand-in (the same at both ends, different per pair).
 */
import { describe, expect, it } from 'vitest';
import { memoryRecordConnPair } from './memory-record-conn.js';
import { tlsRecordConnPair } from './test-tls.js';

describe('channel binding', () => {
  it('TLS 1.3: both ends export the same 32 bytes, and another connection exports others', async () => {
    const a = await tlsRecordConnPair();
    const b = await tlsRecordConnPair();
    try {
      const bindA = a.client.channelBinding();
      expect(bindA).toHaveLength(32);
      expect(a.server.channelBinding()).toEqual(bindA);
      expect(b.client.channelBinding()).toEqual(b.server.channelBinding());
      expect(b.client.channelBinding()).not.toEqual(bindA);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('TLS 1.2: none (its exporter is unique per connection only with the extended master secret)', async () => {
    const p = await tlsRecordConnPair({ maxVersion: 'TLSv1.2' });
    try {
      expect(p.client.socket.getProtocol()).toBe('TLSv1.2');
      expect(p.client.channelBinding()).toBeUndefined();
      expect(p.server.channelBinding()).toBeUndefined();
    } finally {
      await p.close();
    }
  });

  it('memory pairs: the same at both ends, different per pair', () => {
    const [a, b] = memoryRecordConnPair();
    const [c] = memoryRecordConnPair();
    expect(a.channelBinding()).toHaveLength(32);
    expect(a.channelBinding()).toEqual(b.channelBinding());
    expect(c.channelBinding()).not.toEqual(a.channelBinding());
  });
});
