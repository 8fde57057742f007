/** Test helper (only for tests): a plain-HTTP stand-in for an older broker on 127.0.0.1, for
 * the tests of a new request field that an older broker's strict contract refuses (the node's
 * heartbeat `report`, the client's login `deviceKey`). */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OldBroker {
  url: string;
  /** Every request's JSON body, in arrival order. */
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Parses each request's JSON body, keeps it in `bodies`, and answers `answer(body, n)` as
 * JSON (`n`: the bodies so far, this one included). */
export async function oldBroker(answer: (body: Record<string, unknown>, n: number) => { status: number; json: unknown }): Promise<OldBroker> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      bodies.push(body);
      const { status, json } = answer(body, bodies.length);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => {
      server.closeAllConnections(); // a client's keep-alive connection must not hold it open
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
