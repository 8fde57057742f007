/**
 * The load generators' loop (idle-clients.ts, tls-peer.ts): opens `count` connections,
 * `concurrency` at a time, and reports on stdout as the setups and scale benchmarks read
 * it: {"up", "failed", "lastError"} every second and at the end, then {"done": true, …}.
 */
export async function openAll<T>(count: number, concurrency: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const opened: T[] = [];
  let next = 0;
  let failed = 0;
  let lastError = '';
  const report = () => process.stdout.write(JSON.stringify({ up: opened.length, failed, lastError }) + '\n');
  const timer = setInterval(report, 1000);
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        opened.push(await open(i));
      } catch (err) {
        failed++;
        lastError = (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(timer);
  report();
  process.stdout.write(JSON.stringify({ done: true, up: opened.length, failed }) + '\n');
  return opened;
}
