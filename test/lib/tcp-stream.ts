/**
 * A TCP stream between two network namespaces, checked end to end: the receiver hashes
 * what arrives, the sender hashes what it sent (random bytes). Used wherever a test must
 * show that a data path delivers a bulk stream byte-identical.
 */
import { nsScript } from './ns-script.js';

// Receiver: listens, hashes one connection's bytes, prints {bytes, sha}. Sender: sends
// random bytes and prints the same of what it sent.
const PEER = `
const [role, host, port, size] = process.argv.slice(1);
const net = require('node:net'), crypto = require('node:crypto');
if (role === 'recv') {
  const srv = net.createServer((s) => {
    const h = crypto.createHash('sha256'); let n = 0;
    s.on('data', (d) => { h.update(d); n += d.length; });
    s.on('end', () => { console.log(JSON.stringify({ bytes: n, sha: h.digest('hex') })); srv.close(); s.end(); });
  });
  srv.listen(Number(port), host, () => console.log('listening'));
} else {
  const data = crypto.randomBytes(Number(size));
  const s = net.connect(Number(port), host, () => s.end(data));
  s.on('close', () => console.log(JSON.stringify({ bytes: data.length, sha: crypto.createHash('sha256').update(data).digest('hex') })));
}`;

export interface StreamResult {
  bytes: number;
  sha: string;
}

/** Sends `bytes` random bytes from namespace `fromNs` to `toAddr:port` in `toNs`; resolves
 * with [what was sent, what arrived] once both sides are done. */
export async function tcpStream(fromNs: string, toNs: string, toAddr: string, port: number, bytes: number, timeoutMs = 40_000): Promise<[StreamResult, StreamResult]> {
  let sent: Promise<StreamResult> | undefined;
  const received = await nsScript<StreamResult>(toNs, PEER, ['recv', toAddr, String(port)], () => {
    sent = nsScript<StreamResult>(fromNs, PEER, ['send', toAddr, String(port), String(bytes)], undefined, timeoutMs);
  }, timeoutMs);
  return [await sent!, received];
}
