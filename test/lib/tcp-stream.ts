/**
 * A TCP stream between two network namespaces, checked end to end: the receiver hashes
 * what arrives, the sender hashes what it sent (random bytes). Used wherever a test must
 * show that a data path delivers a bulk stream byte-identical.
 */
import { spawn } from 'node:child_process';

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

/** Runs the peer script in a namespace; resolves with its last JSON line; killed after `timeoutMs`. */
function peer(ns: string, args: string[], onListening: (() => void) | undefined, timeoutMs: number): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (onListening && out.includes('listening')) {
        const go = onListening;
        onListening = undefined;
        go();
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as StreamResult);
      else reject(new Error(`peer ${args[0]} in ${ns} exited ${code} (killed after ${timeoutMs} ms?): ${err || out}`));
    });
  });
}

/** Sends `bytes` random bytes from namespace `fromNs` to `toAddr:port` in `toNs`; resolves
 * with [what was sent, what arrived] once both sides are done. */
export async function tcpStream(fromNs: string, toNs: string, toAddr: string, port: number, bytes: number, timeoutMs = 40_000): Promise<[StreamResult, StreamResult]> {
  let sent: Promise<StreamResult> | undefined;
  const received = await peer(toNs, ['recv', toAddr, String(port)], () => {
    sent = peer(fromNs, ['send', toAddr, String(port), String(bytes)], undefined, timeoutMs);
  }, timeoutMs);
  return [await sent!, received];
}
