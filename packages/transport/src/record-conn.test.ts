import { memoryRecordConnPair } from './memory-record-conn.js';
import { describeRecordConnContract, describeRecordConnContractBothEnds } from './test-record-conn-contract.js';
import { tlsRecordConnPair } from './test-tls.js';

describeRecordConnContractBothEnds('TLS', (opts) => tlsRecordConnPair(opts), /^127\.0\.0\.1:\d+$/);

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
