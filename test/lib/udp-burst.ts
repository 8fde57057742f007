/**
 * UDP datagrams in bursts between two network namespaces, checked one by one: each
 * carries its sequence number and a pattern derived from it, and the receiver counts the
 * datagrams that arrive intact. A burst is sent in one go (one send per datagram, no
 * wait), so a tunnel client reads several of them in one wake-up: what "uso" merges.
 *
 * Only EL may lose a datagram here: the two kernel queues outside it are made to hold the
 * whole run, and their drop counters come back with the result. On a loaded machine the
 * tunnel client may not read its TAP/TUN for tens of ms, and the receiver may not run:
 * the device's transmit queue (txqueuelen, 500 by default) and the socket's receive buffer
 * (rmem_default, ~200 KB: a few hundred small datagrams) would overflow.
 */
import { sh } from './netns.js';
import { nsCommand, nsScript } from './ns-script.js';

const SENDER = `
const [family, host, port, count, size, burst] = process.argv.slice(1).map((v, i) => (i < 2 ? v : Number(v)));
const dgram = require('node:dgram');
const sock = dgram.createSocket(family === 'v6' ? 'udp6' : 'udp4');
const fill = (b, seq) => { b.writeUInt32BE(seq, 0); for (let i = 4; i < b.length; i++) b[i] = (seq * 7 + i) & 0xff; };
let seq = 0;
const next = () => {
  for (let i = 0; i < burst && seq < count; i++, seq++) { const b = Buffer.alloc(size); fill(b, seq); sock.send(b, port, host); }
  if (seq < count) setTimeout(next, 5); else setTimeout(() => { console.log(JSON.stringify({ sent: seq })); sock.close(); }, 100);
};
next();`;

// Datagram seq of size bytes in the Python programs below (as the Node sender's fill).
const PY_FILL = `def fill(seq):
    return seq.to_bytes(4, 'big') + bytes((seq * 7 + i) & 0xff for i in range(4, size))
`;

// The receiver is Python: SO_RCVBUFFORCE (root) sets a buffer above rmem_max, which
// Node's dgram cannot. It ends when it has them all, or after 1.5 s without a datagram.
const RECEIVER = `
import json, socket, sys
fam, host, port, count, size, rcvbuf = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET6 if fam == 'v6' else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)  # SO_RCVBUFFORCE
s.bind((host, port))
${PY_FILL}seen, bad = set(), 0
print('listening', flush=True)
while len(seen) < count:
    try:
        m = s.recv(65536)
    except socket.timeout:
        break
    s.settimeout(1.5)
    seq = int.from_bytes(m[:4], 'big') if len(m) >= 4 else -1
    if len(m) == size and seq >= 0 and m == fill(seq): seen.add(seq)
    else: bad += 1
print(json.dumps({'received': len(seen), 'bad': bad}))
`;

// The same sender with UDP_SEGMENT (a QUIC stack's way): each burst is ONE sendmsg of
// burst × size bytes that the kernel cuts into datagrams of \`size\` (Node's dgram cannot
// set the option). On an offload TAP/TUN it reaches the tunnel client as one UDP super-frame.
const GSO_SENDER = `
import json, socket, sys, time
fam, host, port, count, size, burst = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET6 if fam == 'v6' else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_UDP, 103, size)  # UDP_SEGMENT
${PY_FILL}seq = 0
while seq < count:
    n = min(burst, count - seq)
    s.sendto(b''.join(fill(seq + i) for i in range(n)), (host, port))
    seq += n
    time.sleep(0.005)
time.sleep(0.1)
print(json.dumps({'sent': seq}))
`;

/** The receive buffer's charge per datagram is its sk_buff's truesize: about 1 KiB for the
 * datagrams here (measured on lo: 832 bytes for 64-byte datagrams, 932 for 100-byte ones cut
 * from a UDP_SEGMENT send). 8 KiB leaves room for another path's allocation. */
const RCVBUF_PER_DATAGRAM = 8192;

export interface BurstResult {
  sent: number;
  received: number;
  /** Datagrams that arrived with a wrong length or content. */
  bad: number;
  /** Drops the kernel counted outside EL during the run: the sending namespace's tunnel
   * device (tx_dropped and qdisc drops: its transmit queue was full) and the receiving
   * namespace's UDP (RcvbufErrors: the socket's buffer was full). Both queues are sized to
   * hold the whole run, so these stay 0; were they not, a shortfall in `received` would not
   * be EL's. */
  kernelDrops: { tunnelTx: number; receiveBuffer: number };
}

/** The tunnel device's transmit drops in namespace `ns`: its own (the TUN/TAP queue full)
 * and its qdiscs' (where a kernel that stops the device's queue when full holds the rest). */
function txDropped(ns: string, dev: string): number {
  const [link] = JSON.parse(sh('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev])) as { stats64: { tx: { dropped: number } } }[];
  const qdiscs = JSON.parse(sh('tc', ['-n', ns, '-s', '-j', 'qdisc', 'show', 'dev', dev])) as { drops?: number }[];
  return link.stats64.tx.dropped + qdiscs.reduce((n, q) => n + (q.drops ?? 0), 0);
}

/** UDP datagrams dropped for a full receive buffer in namespace `ns` (per family). */
function rcvbufErrors(ns: string, family: 'v4' | 'v6'): number {
  if (family === 'v6') return Number(/^Udp6RcvbufErrors\s+(\d+)/m.exec(sh('cat', ['/proc/net/snmp6'], { ns }))?.[1]);
  // /proc/net/snmp: a "Udp:" line of names, then a "Udp:" line of values.
  const [names, values] = sh('cat', ['/proc/net/snmp'], { ns }).split('\n').filter((l) => l.startsWith('Udp:')).map((l) => l.split(/\s+/));
  return Number(values[names.indexOf('RcvbufErrors')]);
}

/** The transmit queue length of `dev` in `ns`. */
function txQueueLen(ns: string, dev: string): number {
  const [link] = JSON.parse(sh('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev])) as { txqlen: number }[];
  return link.txqlen;
}

/** Sends `count` datagrams of `size` bytes in bursts of `burst` (5 ms apart) from `fromNs`
 * to `toAddr:port` in `toNs` (`udpSegment`: each burst one UDP_SEGMENT send); resolves
 * once the receiver has them all or heard nothing for 1.5 s. `dev`: the sender's tunnel
 * device (default el0), whose transmit queue is raised to `count` for the run. */
export async function udpBursts(fromNs: string, toNs: string, toAddr: string, port: number, opts: { count: number; size: number; burst: number; timeoutMs?: number; udpSegment?: boolean; dev?: string }): Promise<BurstResult> {
  const family = toAddr.includes(':') ? 'v6' : 'v4';
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const dev = opts.dev ?? 'el0';
  const args = [family, toAddr, String(port), String(opts.count), String(opts.size), String(opts.burst)];
  // Every datagram is at most one entry of the device's queue (a UDP_SEGMENT burst is one).
  const qlen = txQueueLen(fromNs, dev);
  if (qlen < opts.count) sh('ip', ['-n', fromNs, 'link', 'set', 'dev', dev, 'txqueuelen', String(opts.count)]);
  const txBefore = txDropped(fromNs, dev);
  const rcvBefore = rcvbufErrors(toNs, family);
  try {
    let sent: Promise<Record<string, number>> | undefined;
    const recvArgs = [family, toAddr, String(port), String(opts.count), String(opts.size), String(opts.count * RCVBUF_PER_DATAGRAM)];
    const got = await nsCommand<Record<string, number>>(toNs, ['python3', '-c', RECEIVER, ...recvArgs], () => {
      sent = opts.udpSegment
        ? nsCommand<Record<string, number>>(fromNs, ['python3', '-c', GSO_SENDER, ...args], undefined, timeoutMs)
        : nsScript<Record<string, number>>(fromNs, SENDER, args, undefined, timeoutMs);
    }, timeoutMs);
    return {
      sent: (await sent!).sent,
      received: got.received,
      bad: got.bad,
      kernelDrops: { tunnelTx: txDropped(fromNs, dev) - txBefore, receiveBuffer: rcvbufErrors(toNs, family) - rcvBefore },
    };
  } finally {
    if (qlen < opts.count) sh('ip', ['-n', fromNs, 'link', 'set', 'dev', dev, 'txqueuelen', String(qlen)]);
  }
}
