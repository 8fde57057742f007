/**
 * UDP datagrams in bursts between two network namespaces, checked one by one: each
 * carries its sequence number and a pattern derived from it, and the receiver counts the
 * datagrams that arrive intact. A burst is sent in one go (one send per datagram, no
 * wait), so a tunnel client reads several of them in one wake-up: what "uso" merges.
 */
import { nsCommand, nsScript } from './ns-script.js';

const PEER = `
const [role, family, host, port, count, size, burst] = process.argv.slice(1).map((v, i) => (i < 3 ? v : Number(v)));
const dgram = require('node:dgram');
const sock = dgram.createSocket(family === 'v6' ? 'udp6' : 'udp4');
const fill = (b, seq) => { b.writeUInt32BE(seq, 0); for (let i = 4; i < b.length; i++) b[i] = (seq * 7 + i) & 0xff; };
if (role === 'recv') {
  const seen = new Set(); let bad = 0; let idle;
  const done = () => { console.log(JSON.stringify({ received: seen.size, bad })); sock.close(); };
  sock.on('message', (m) => {
    const want = Buffer.alloc(m.length); const seq = m.length >= 4 ? m.readUInt32BE(0) : -1;
    if (seq >= 0) fill(want, seq);
    if (m.length !== size || !m.equals(want)) bad++; else seen.add(seq);
    clearTimeout(idle);
    if (seen.size === count) return done();
    idle = setTimeout(done, 1500);
  });
  sock.bind(port, host, () => console.log('listening'));
} else {
  let seq = 0;
  const next = () => {
    for (let i = 0; i < burst && seq < count; i++, seq++) { const b = Buffer.alloc(size); fill(b, seq); sock.send(b, port, host); }
    if (seq < count) setTimeout(next, 5); else setTimeout(() => { console.log(JSON.stringify({ sent: seq })); sock.close(); }, 100);
  };
  next();
}`;

// The same sender with UDP_SEGMENT (a QUIC stack's way): each burst is ONE sendmsg of
// burst × size bytes that the kernel cuts into datagrams of \`size\` (Node's dgram cannot
// set the option). On an offload TAP/TUN it reaches the tunnel client as one UDP super-frame.
const GSO_SENDER = `
import json, socket, sys, time
fam, host, port, count, size, burst = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET6 if fam == 'v6' else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_UDP, 103, size)  # UDP_SEGMENT
def fill(seq):
    return seq.to_bytes(4, 'big') + bytes((seq * 7 + i) & 0xff for i in range(4, size))
seq = 0
while seq < count:
    n = min(burst, count - seq)
    s.sendto(b''.join(fill(seq + i) for i in range(n)), (host, port))
    seq += n
    time.sleep(0.005)
time.sleep(0.1)
print(json.dumps({'sent': seq}))
`;

export interface BurstResult {
  sent: number;
  received: number;
  /** Datagrams that arrived with a wrong length or content. */
  bad: number;
}


/** Sends `count` datagrams of `size` bytes in bursts of `burst` (5 ms apart) from `fromNs`
 * to `toAddr:port` in `toNs` (`udpSegment`: each burst one UDP_SEGMENT send); resolves
 * once the receiver has them all or heard nothing for 1.5 s. */
export async function udpBursts(fromNs: string, toNs: string, toAddr: string, port: number, opts: { count: number; size: number; burst: number; timeoutMs?: number; udpSegment?: boolean }): Promise<BurstResult> {
  const family = toAddr.includes(':') ? 'v6' : 'v4';
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const args = [family, toAddr, String(port), String(opts.count), String(opts.size), String(opts.burst)];
  let sent: Promise<Record<string, number>> | undefined;
  const got = await nsScript<Record<string, number>>(toNs, PEER, ['recv', ...args], () => {
    sent = opts.udpSegment
      ? nsCommand<Record<string, number>>(fromNs, ['python3', '-c', GSO_SENDER, ...args], undefined, timeoutMs)
      : nsScript<Record<string, number>>(fromNs, PEER, ['send', ...args], undefined, timeoutMs);
  }, timeoutMs);
  return { sent: (await sent!).sent, received: got.received, bad: got.bad };
}
