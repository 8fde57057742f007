/**
 * Warms the frame path before a process serves (issue 14): the first real packets after a
 * start otherwise run interpreted code (a few hundred µs per hop, several ms at p99).
 *
 * A throwaway network inside the process: a SwitchNode of its own on 127.0.0.1 (its own
 * certificate, ticket key, segments and metrics registry, silent log) and two SwitchLinks
 * to it over real TLS, each delivering what it receives through an OutputQueue and a
 * DeviceWriter into a sink device. Frames go both ways, lone (a ping's shape) and in
 * batches (a small-packet flood's), through the real client code (sendFrames /
 * sendVnetPackets, TlsRecordConn, RecordWriter, the frame listener, DeviceWriter) and the
 * real switch code (Session, the L2 or L3 segment, the session port's queue). Nothing of
 * it touches the process's real node, sessions, devices or metrics: all of it is closed
 * before this returns. Bounded by a CPU budget, a wall-clock bound and a number of round trips.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createCertificateAuthority, issueServerCertificate } from '@elink/pki';
import { generateTicketKeyPair, RecordType, segmentSchema, signTicket, VNET_F_NEEDS_CSUM, VNET_HDR_LENGTH } from '@elink/protocol';
import { SwitchNode } from '@elink/switch';
import { SwitchLink } from '@elink/client';
import { DeviceWriter, FlushScheduler, OutputQueue } from '@elink/transport';
import type { TunTapDevice } from '@elink/tuntap';

export interface WarmUpOptions {
  /** CPU budget of the frames: milliseconds of this process's CPU time (user + system) from
   * the end of the set-up (a certificate, a node, two TLS links per mode: ~20–60 ms of CPU).
   * CPU, not wall clock: on a busy start (a node and its clients coming up at once) a
   * wall-clock budget ran out in the set-up and sent nothing. */
  budgetMs?: number;
  /** Wall-clock bound of the whole warm-up, whatever the CPU budget says. */
  maxWallMs?: number;
  /** Stop after this many lone round trips (each followed, every 8th, by a batch). */
  roundTrips?: number;
  /** Which segment kinds to run frames through; a switch warms those it hosts. */
  modes?: readonly ('l2' | 'l3')[];
  /** Send as an offload device does (virtio_net_hdr first, sendVnetPackets) — what `elink connect` does by default. */
  offload?: boolean;
}

export interface WarmUpReport {
  /** Milliseconds from the call to the end of the last round trip (set-up included). */
  ms: number;
  /** CPU milliseconds of the process during the frames (what budgetMs bounds). */
  cpuMs: number;
  /** Lone frames that went out and came back, over all modes. */
  roundTrips: number;
  /** Frames the sink devices took (what reached "the device" in the throwaway network). */
  framesDelivered: number;
  /** Frames the throwaway node's sessions forwarded (its own metrics registry). */
  switchFramesIn: number;
  /** Why it stopped (its last part, after the collection): all round trips done, the CPU
   * budget or the wall-clock bound ran out. */
  stoppedBy: 'round-trips' | 'budget' | 'wall-clock';
}

export const WARM_UP_DEFAULTS = { budgetMs: 250, roundTrips: 1500, maxWallMs: 3000 } as const;

/** A device that takes every frame and keeps nothing: DeviceWriter's real code, no kernel. */
class SinkDevice {
  closed = false;
  frames = 0;
  constructor(readonly offload: boolean) {}
  writeMany(frames: readonly Buffer[]): number {
    this.frames += frames.length;
    return frames.length;
  }
  writeManyPlain(frames: readonly Buffer[]): number {
    this.frames += frames.length;
    return frames.length;
  }
}

/** One warm-up endpoint: a link, its scheduler and device queue, as KernelClient wires them. */
interface End {
  link: SwitchLink;
  sink: SinkDevice;
  queue: OutputQueue;
  received: number;
}

const silent = pino({ level: 'silent' });
const MAC_A = '02:e1:57:00:00:0a';
const MAC_B = '02:e1:57:00:00:0b';
const MAC_C = '02:e1:57:00:00:0c';
const V4_POOL = '198.19.255.0/29';

function macOctets(mac: string): number[] {
  return mac.split(':').map((h) => parseInt(h, 16));
}

/** An IPv4 UDP packet of `size` bytes (a ping's or a 64-byte flood's shape). */
function ipv4Udp(src: string, dst: string, size: number): Buffer {
  const p = Buffer.alloc(size);
  p[0] = 0x45;
  p.writeUInt16BE(size, 2);
  p[8] = 64;
  p[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(p, 12);
  Buffer.from(dst.split('.').map(Number)).copy(p, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += p.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  p.writeUInt16BE(~sum & 0xffff, 10);
  p.writeUInt16BE(40000, 20);
  p.writeUInt16BE(33434, 22);
  p.writeUInt16BE(size - 20, 24);
  return p;
}

/**
 * What one side sends: the L2 frame or L3 packet, with a virtio_net_hdr first when
 * offloading — zero (a ping's: nothing to do), or with `needsCsum` NEEDS_CSUM at the UDP
 * checksum, as a kernel with checksum offload hands over a UDP datagram: what a small-packet
 * flood looks like, merged into UDP super-frames and sent as FRAME_GSO where "uso" is agreed.
 */
function packet(mode: 'l2' | 'l3', offload: boolean, from: { mac: string; ip: string }, to: { mac: string; ip: string }, ipSize: number, needsCsum = false): Buffer {
  const ip = ipv4Udp(from.ip, to.ip, ipSize);
  const l2 = mode === 'l2' ? Buffer.concat([Buffer.from([...macOctets(to.mac), ...macOctets(from.mac), 0x08, 0x00]), ip]) : ip;
  if (!offload) return l2;
  const hdr = Buffer.alloc(VNET_HDR_LENGTH);
  if (needsCsum) {
    hdr[0] = VNET_F_NEEDS_CSUM;
    hdr.writeUInt16LE((mode === 'l2' ? 14 : 0) + 20, 6); // csum_start: the UDP header
    hdr.writeUInt16LE(6, 8); // csum_offset: UDP's checksum field
  }
  return Buffer.concat([hdr, l2]);
}

async function openEnd(port: number, caPem: string, ticket: string, mac: string | undefined, offload: boolean): Promise<End> {
  // As KernelClient: its own scheduler, frames read into the scheduler's arena.
  const scheduler = new FlushScheduler();
  const arena = scheduler.arena;
  const link = await SwitchLink.connect({
    server: { node: 'warm-up', host: '127.0.0.1', port },
    ticket,
    ...(mac ? { mac } : {}),
    ca: caPem,
    gso: offload,
    uso: offload,
    scheduler,
    allocate: (_type, size) => arena.alloc(size),
    connectTimeoutMs: 5000,
    logger: silent,
  });
  const sink = new SinkDevice(offload);
  const queue = new OutputQueue(new DeviceWriter(sink as unknown as TunTapDevice), { scheduler });
  const end: End = { link, sink, queue, received: 0 };
  link.on('frame', (frame: Buffer, gso: boolean) => {
    end.received++;
    queue.push(gso ? RecordType.FRAME_GSO : RecordType.FRAME, frame);
  });
  return end;
}

function send(end: End, offload: boolean, packets: Buffer[]): void {
  if (offload) end.link.sendVnetPackets(packets);
  else end.link.sendFrames(packets);
}

/** Resolves once `end` has received `count` frames, or `deadline` (ms since epoch) passed. */
function receivedBy(end: End, count: number, deadline: number): Promise<boolean> {
  if (end.received >= count) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = (): void => {
      if (end.received >= count) return resolve(true);
      if (Date.now() >= deadline) return resolve(false);
      setImmediate(check);
    };
    setImmediate(check);
  });
}

const BATCH = 32;

/**
 * The throwaway network's objects, closed, kept reachable for the life of the process
 * (~120 KB of heap). Optimised code holds the hidden classes (maps) of the objects it ran
 * on only weakly: when the last object of a map dies, the next full collection clears it and
 * V8 throws away every function compiled against it — measured with `node --log-deopt`:
 * ~40 functions, "embedded weak objects cleared", Node's TLS socket read and write path and
 * EL's record writer among them, right after the warm-up's collection, so the first real
 * packets ran unoptimised code again. Kept alive, the maps stay, real sockets and sessions
 * take the same ones, and the code stays valid.
 */
const retained: object[] = [];

/**
 * Closes a third link and waits (bounded) until the node has closed its session too. The
 * first close of a TLS socket in a process deoptimises much of Node's socket and stream code
 * and EL's write path (V8: "dependent prototype chain changed", "wrong map"; ~20 functions
 * with --trace-deopt); done before most round trips, those are optimised again with the
 * close seen.
 */
async function closeEnd(node: SwitchNode, end: End, deadline: number): Promise<void> {
  const before = node.liveSessions().size;
  shut(end, 'warm-up: a session closes');
  const until = Math.min(deadline, Date.now() + 500);
  while (node.liveSessions().size >= before && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
}

/** Closes one end's link and queue; its sink takes nothing more. */
function shut(end: End, reason: string): void {
  end.link.close(reason);
  end.queue.close();
  end.sink.closed = true;
}

/** The share of the round trips run by finish(), after the caller's full collection. */
const LAST_SHARE = 0.2;
/** Round trips of each mode after the collection whatever the CPU budget says (the wall clock
 * still bounds them): process CPU time counts V8's helper threads, which may still be
 * sweeping after the collection, and a small budget was once spent before the first send. */
const LAST_AT_LEAST = 8;

/** One mode's two ends and what they send. */
interface ModeRun {
  ea: End;
  eb: End;
  ping: Buffer[];
  pong: Buffer[];
  flood: Buffer[];
  csumFlood: Buffer[];
  next: number;
}

/**
 * A warm-up started: most round trips have run. `finish()` runs the rest and closes it all.
 * In between the caller collects start-up's garbage (startup-tuning.ts): that collection
 * throws away code compiled against objects that died (what still dies: timers, buffers
 * grown meanwhile), and the last round trips optimise it again, so nothing is left
 * deoptimised by it when the process starts serving.
 */
export interface WarmUp {
  finish(): Promise<WarmUpReport>;
}

export async function startWarmUp(opts: WarmUpOptions = {}): Promise<WarmUp> {
  const started = Date.now();
  const budgetMs = opts.budgetMs ?? WARM_UP_DEFAULTS.budgetMs;
  const wallDeadline = started + (opts.maxWallMs ?? WARM_UP_DEFAULTS.maxWallMs);
  const roundTrips = opts.roundTrips ?? WARM_UP_DEFAULTS.roundTrips;
  const modes = opts.modes ?? ['l2'];
  const offload = opts.offload ?? true;
  const ca = await createCertificateAuthority('elink warm-up (throwaway)');
  const cert = await issueServerCertificate(ca, ['127.0.0.1']);
  const ticketKey = generateTicketKeyPair();
  const registry = new Registry();
  const node = new SwitchNode({
    nodeId: 'warm-up',
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: cert.certPem, key: cert.keyPem },
    segments: [segmentSchema.parse({ name: 'warm-l2' }), segmentSchema.parse({ name: 'warm-l3', mode: 'l3', ipv4: { pool: V4_POOL } })],
    ticketKeys: () => [ticketKey.publicKey],
    logger: silent,
    registry,
    gso: true,
    closeGraceMs: 50,
  });
  const ends: End[] = [];
  const runs: ModeRun[] = [];
  const perMode = Math.ceil(roundTrips / modes.length);
  let done = 0;
  let stoppedBy: WarmUpReport['stoppedBy'] = 'round-trips';
  let cpuMs = 0;
  const cpuSince = (from: NodeJS.CpuUsage): number => {
    const c = process.cpuUsage(from);
    return (c.user + c.system) / 1000;
  };

  /** Round trips of `run` up to `until` (exclusive), while the CPU time since `cpuFrom` is
   * under `share` ms (but for the first `atLeast`) and the wall clock under `wallDeadline`. */
  const roundsOf = async (run: ModeRun, until: number, cpuFrom: NodeJS.CpuUsage, share: number, wallDeadline: number, atLeast = 0): Promise<void> => {
    const { ea, eb } = run;
    const from = run.next;
    for (; run.next < until; run.next++) {
      const i = run.next;
      if (Date.now() >= wallDeadline) {
        stoppedBy = 'wall-clock';
        return;
      }
      if (i - from >= atLeast && cpuSince(cpuFrom) >= share) {
        stoppedBy = 'budget';
        return;
      }
      send(ea, offload, run.ping);
      if (!(await receivedBy(eb, eb.received + 1, wallDeadline))) continue;
      send(eb, offload, run.pong);
      if (!(await receivedBy(ea, ea.received + 1, wallDeadline))) continue;
      done++;
      if (i % 8 === 7) {
        const csum = offload && i % 16 === 15;
        send(ea, offload, csum ? run.csumFlood : run.flood);
        // With "uso" agreed a run of one flow arrives as one super-frame.
        await receivedBy(eb, eb.received + (csum && ea.link.uso ? 1 : BATCH), wallDeadline);
      }
    }
  };

  const close = async (): Promise<void> => {
    // The switch side's sessions (and their sockets) too: a node forgets them when it stops.
    retained.push(...node.liveSessions());
    for (const e of ends) shut(e, 'warm-up done');
    await node.stop('warm-up done');
    retained.push(node, ...ends);
  };

  try {
    await node.start();
    const port = node.address().port;
    const cpu0 = process.cpuUsage();
    const firstUntil = perMode - Math.floor(perMode * LAST_SHARE);
    // Split the budget between the modes, and in each between the two parts.
    for (const [m, mode] of modes.entries()) {
      const now = Math.floor(Date.now() / 1000);
      const a = { mac: MAC_A, ip: '198.19.255.2' };
      const b = { mac: MAC_B, ip: '198.19.255.3' };
      const c = { mac: MAC_C, ip: '198.19.255.4' };
      const ticket = (sub: string, who: typeof a) =>
        signTicket({ jti: randomBytes(9).toString('base64url'), sub, seg: mode === 'l2' ? 'warm-l2' : 'warm-l3', mode, iat: now, exp: now + 60, ...(mode === 'l2' ? { mac: who.mac } : { ipv4: `${who.ip}/29` }) }, ticketKey.privateKey);
      const open = async (sub: string, who: typeof a): Promise<End> => {
        const e = await openEnd(port, ca.certPem, ticket(sub, who), mode === 'l2' ? who.mac : undefined, offload);
        ends.push(e);
        return e;
      };
      const run: ModeRun = {
        ea: await open('warm-a', a),
        eb: await open('warm-b', b),
        ping: [packet(mode, offload, a, b, 84)],
        pong: [packet(mode, offload, b, a, 84)],
        // Every other batch as a kernel with checksum offload hands over a UDP flood
        // (merged into super-frames where "uso" is agreed, FRAME_GSO both ways).
        flood: Array.from({ length: BATCH }, () => packet(mode, offload, a, b, 46)),
        csumFlood: Array.from({ length: BATCH }, () => packet(mode, offload, a, b, 46, true)),
        next: 0,
      };
      runs.push(run);
      const ec = await open('warm-c', c);
      const share = (budgetMs * (1 - LAST_SHARE) * (m + 1)) / modes.length;
      await roundsOf(run, Math.floor(firstUntil / 4), cpu0, share, wallDeadline);
      await closeEnd(node, ec, wallDeadline);
      await roundsOf(run, firstUntil, cpu0, share, wallDeadline);
    }
    cpuMs = cpuSince(cpu0);
  } catch (err) {
    await close();
    throw err;
  }

  return {
    finish: async () => {
      let switchFramesIn = 0;
      // Its own budgets: the caller's work since the first part (a login, the collection) is not the warm-up's.
      const cpu1 = process.cpuUsage();
      const deadline = Date.now() + (opts.maxWallMs ?? WARM_UP_DEFAULTS.maxWallMs) * LAST_SHARE;
      // Also when the first part ran out of its CPU budget (a busy start): what the collection
      // threw away is compiled again only by round trips after it. Not past the wall-clock
      // bound: that one bounds the start-up delay the warm-up may add.
      if (stoppedBy === 'budget') stoppedBy = 'round-trips';
      try {
        for (const [m, run] of runs.entries()) {
          // A mode that ran out of the budget still leaves the next its LAST_AT_LEAST.
          if (stoppedBy === 'wall-clock') break;
          await roundsOf(run, perMode, cpu1, (budgetMs * LAST_SHARE * (m + 1)) / runs.length, deadline, LAST_AT_LEAST);
        }
        cpuMs += cpuSince(cpu1);
        const frames = (await registry.getSingleMetric('el_switch_frames_total')?.get())?.values ?? [];
        for (const v of frames) if (v.labels.direction === 'in') switchFramesIn += v.value;
      } finally {
        await close();
      }
      return {
        ms: Date.now() - started,
        cpuMs: Math.round(cpuMs),
        roundTrips: done,
        framesDelivered: ends.reduce((n, e) => n + e.sink.frames, 0),
        switchFramesIn,
        stoppedBy,
      };
    },
  };
}

/** The whole warm-up at once (no collection in between). */
export async function warmUpFramePath(opts: WarmUpOptions = {}): Promise<WarmUpReport> {
  return (await startWarmUp(opts)).finish();
}
