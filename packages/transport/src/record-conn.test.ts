import { memoryRecordConnPair } from './memory-record-conn.js';
import { describeRecordConnContract } from './test-record-conn-contract.js';
import { pauseTls, resumeTls, tlsRecordConnPair } from './test-tls.js';

describeRecordConnContract('TLS (a: the accepted side, b: the connecting side)', async (opts) => {
  const pair = await tlsRecordConnPair(opts);
  return {
    a: pair.server,
    b: pair.client,
    pauseB: () => pauseTls(pair.client),
    resumeB: () => resumeTls(pair.client),
    peerPattern: /^127\.0\.0\.1:\d+$/,
    close: pair.close,
  };
});

describeRecordConnContract('TLS (a: the connecting side, b: the accepted side)', async (opts) => {
  const pair = await tlsRecordConnPair(opts);
  return {
    a: pair.client,
    b: pair.server,
    pauseB: () => pauseTls(pair.server),
    resumeB: () => resumeTls(pair.server),
    peerPattern: /^127\.0\.0\.1:\d+$/,
    close: pair.close,
  };
});

describeRecordConnContract('memory pair (chunks of at most 1,000 bytes)', async (opts) => {
  const [a, b] = memoryRecordConnPair({ chunkSize: 1000, ...opts });
  return {
    a,
    b,
    pauseB: () => b.pauseReading(),
    resumeB: () => b.resumeReading(),
    peerPattern: /^memory:\d+$/,
    close: async () => {
      a.destroy();
      b.destroy();
    },
  };
});
