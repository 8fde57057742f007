/**
 * Echo requests from a network namespace, each answered within a stated time. One
 * `ping -c 1 -W <s>` per request, not `ping -c N -i 0.2 -W <s>`: once a reply has come,
 * iputils ping waits for the last request's reply only max(2 × the largest round trip,
 * the interval) and then counts it lost (-W applies only while no reply has come). On a
 * loaded machine a user-space hop that does not run for 200 ms (the 6in4 test client)
 * turned such a late reply into "1 received, 50% packet loss".
 */
import { execFile } from 'node:child_process';

export interface PingResult {
  transmitted: number;
  received: number;
  /** The output of each ping whose reply did not come (in the failure message). */
  unanswered: string[];
}

/** `count` echo requests to `target` from `ns` one after the other (`args`: e.g. -6, -I dev),
 * each counted received if its reply came within `waitSeconds`. */
export async function pingEach(ns: string, target: string, count: number, args: string[] = [], waitSeconds = 2): Promise<PingResult> {
  const result: PingResult = { transmitted: 0, received: 0, unanswered: [] };
  for (let i = 0; i < count; i++) {
    const out = await new Promise<string>((resolve) =>
      execFile('ip', ['netns', 'exec', ns, 'ping', ...args, '-c', '1', '-W', String(waitSeconds), target], { timeout: (waitSeconds + 10) * 1000 }, (_e, o, e) => resolve(`${o}${e}`)),
    );
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
    result.transmitted += Number(m?.[1] ?? 0);
    result.received += Number(m?.[2] ?? 0);
    if (m?.[2] !== '1') result.unanswered.push(out);
  }
  return result;
}
