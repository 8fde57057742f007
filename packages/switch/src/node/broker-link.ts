/**
 * A switch node's link to the brokers: every `intervalMs` it POSTs a heartbeat to
 * /v1/nodes/heartbeat (cluster secret as Bearer token) and takes from the reply the
 * broker's public ticket keys and the segment definitions, which it starts hosting.
 *
 * Live sessions never depend on this: when every broker is away the node keeps its
 * sessions and its last-known keys (also kept in `keysFile`, when given, so a restart
 * without brokers still admits tickets signed before). Brokers are tried in turn.
 */
import { writeFileSync, readFileSync, existsSync, renameSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { formatNodeTime, heartbeatReplySchema, NODE_TIME_HEADER, parseReply, publicKeyFromPem, segmentSchema, type HeartbeatReply, type HeartbeatRequest, type NodeCommand, type NodeReport, type Revocation, type SegmentDef, type TrunkPeerEntry } from '@elink/protocol';
import { postJson } from '@elink/transport';

import { DEFAULT_BROKER_INTERVAL_MS } from './defaults.js';
import { EarlyHeartbeat } from './early-heartbeat.js';

export interface BrokerLinkOptions {
  /** Broker base URLs (https://broker:8443), tried in order. */
  brokers: string[];
  clusterSecret: string;
  /** CA to trust for the brokers' certificates (PEM); default the system's. */
  ca?: string | Buffer;
  nodeId: string;
  /** What clients should connect to (addresses or host names), best first. */
  hosts: string[];
  /** The EL port (a function: known once the node listens). */
  port: number | (() => number);
  fingerprint?: string;
  /** The node's public EL over WebSocket URL (an L7 ingress in front), sent as `websocket`. */
  websocket?: string;
  capacity: number;
  /** Read at each heartbeat (`segmentLoad` makes `active` and `segmentSessions` from the node's stats). */
  state: () => { sessions: number; segments: string[]; active: string[]; segmentSessions?: Record<string, number>; draining: boolean };
  /** A segment definition arrived; host it. */
  addSegment: (def: SegmentDef) => void;
  /** The node's trunk listener, sent in each heartbeat (absent: no trunks). */
  trunk?: () => { hosts: string[]; port: number };
  /** The reply's trunk peers (the other nodes of this node's segments), when it has trunks. */
  peers?: (peers: TrunkPeerEntry[]) => void;
  /** The broker's live device key revocations (each reply; SwitchNode.applyRevocations), and
   * which answered heartbeat brought them: 1 for the first (el_switch_heartbeats_total{result="ok"}
   * once this one is counted). */
  revoked?: (list: readonly Revocation[], heartbeat: number) => void;
  /** The console's report (nodeReport), sent with each heartbeat when given. */
  report?: () => NodeReport;
  /** The reply's commands from administrators (disconnect a session, drain the node). */
  commands?: (list: readonly NodeCommand[]) => void;
  /** Keys from the last good reply; also seeds the keys when given. */
  keysFile?: string;
  intervalMs?: number;
  timeoutMs?: number;
  logger: Logger;
  /** Heartbeat metrics (el_switch_heartbeat*) go here when given. */
  registry?: Registry;
}

interface LinkMetrics {
  beats: Counter<'result'>;
  latency: Histogram<string>;
  lastOk: Gauge<string>;
}

function linkMetrics(registry: Registry): LinkMetrics {
  const registers = [registry];
  const beats = new Counter({ name: 'el_switch_heartbeats_total', help: 'Heartbeats sent to a broker, by result (ok, failed: no answer, an error status or a bad reply).', labelNames: ['result'] as const, registers });
  for (const result of ['ok', 'failed']) beats.inc({ result }, 0);
  const latency = new Histogram({ name: 'el_switch_heartbeat_duration_seconds', help: 'Time from sending a heartbeat to its answered reply.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
  const lastOk = new Gauge({ name: 'el_switch_heartbeat_last_success_seconds', help: 'Unix time of the last heartbeat a broker answered (0: none yet).', registers });
  return { beats, latency, lastOk };
}

/** How long heartbeats to a broker that refused the console report go without one. */
const NO_REPORT_MS = 10 * 60_000;

/** The heartbeat contract's bound on segments in `active` and `segmentSessions`. */
export const MAX_REPORTED_SEGMENTS = 1024;

/**
 * What a heartbeat says about the node's segments: those with live sessions (`active`)
 * and how many each (`segmentSessions`, for the broker's placement by affinity). Past
 * the contract's bound the busiest segments are kept, the ones where affinity matters.
 */
export function segmentLoad(segments: Readonly<Record<string, { sessions: number }>>): { active: string[]; segmentSessions: Record<string, number> } {
  let live = Object.entries(segments).filter(([, v]) => v.sessions > 0);
  if (live.length > MAX_REPORTED_SEGMENTS) live = live.sort((a, b) => b[1].sessions - a[1].sessions).slice(0, MAX_REPORTED_SEGMENTS);
  const segmentSessions: Record<string, number> = {};
  for (const [name, v] of live) segmentSessions[name] = v.sessions;
  return { active: live.map(([name]) => name), segmentSessions };
}

export class BrokerLink {
  #opts: BrokerLinkOptions;
  #keys: KeyObject[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastOk = 0;
  /** Heartbeats answered (and applied) since start. */
  #answered = 0;
  #failures = 0;
  #next = 0;
  /** Brokers that refused the console report (an older version), and until when to leave it out (one entry per configured broker). */
  readonly #noReport = new Map<string, number>();
  readonly #metrics: LinkMetrics | undefined;
  /** Heartbeats before their time (a trunk peer lost), one a second at most. */
  readonly #early = new EarlyHeartbeat({ beat: () => this.beat() });

  constructor(opts: BrokerLinkOptions) {
    this.#opts = opts;
    this.#metrics = opts.registry && linkMetrics(opts.registry);
    if (opts.keysFile && existsSync(opts.keysFile)) {
      try {
        this.#keys = (JSON.parse(readFileSync(opts.keysFile, 'utf8')) as string[]).map(publicKeyFromPem);
      } catch (err) {
        opts.logger.warn({ err, file: opts.keysFile }, 'ignoring unreadable saved broker keys');
      }
    }
  }

  /** The broker keys as last heard (a function for SwitchNode's `ticketKeys`). */
  keys = (): KeyObject[] => this.#keys;

  /** Milliseconds since the epoch of the last good heartbeat (0 = none yet). */
  get lastOk(): number {
    return this.#lastOk;
  }

  /** Sends the first heartbeat now (resolves true when a broker answered), then keeps going. */
  async start(): Promise<boolean> {
    const ok = await this.beat();
    this.#schedule();
    return ok;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#early.stop();
  }

  /**
   * The brokers should hear now what the next heartbeat would say (a trunk peer may be gone:
   * the report's `trunks` says since when): a heartbeat as soon as the one-a-second limit of
   * early ones allows; the regular ones keep their pace.
   */
  beatSoon(): void {
    if (!this.#stopped) this.#early.request();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const base = this.#opts.intervalMs ?? DEFAULT_BROKER_INTERVAL_MS;
    // After failures, back off (up to 6 intervals) with jitter, so brokers coming back are not stampeded.
    const delay = this.#failures === 0 ? base : Math.min(base * 2 ** Math.min(this.#failures, 3), base * 6) * (0.5 + Math.random() / 2);
    // beat() catches per broker; the catch here is for the rest (state(), the body), so a bug never ends the process.
    this.#timer = setTimeout(() => void this.beat().catch((err: unknown) => this.#opts.logger.error({ err: (err as Error)?.message }, 'heartbeat round failed')).finally(() => this.#schedule()), delay);
    this.#timer.unref();
  }

  /**
   * New TLS material after a config reload: the CA trusted for the brokers (next
   * request) and the fingerprint of this node's certificate (next heartbeat).
   */
  setTls(update: { ca?: string | Buffer; fingerprint?: string }): void {
    this.#opts = { ...this.#opts, ...update };
  }

  /** One heartbeat round: each broker in turn until one answers. */
  async beat(): Promise<boolean> {
    const { brokers, logger } = this.#opts;
    const body: HeartbeatRequest = { node: this.#opts.nodeId, hosts: this.#opts.hosts, port: typeof this.#opts.port === 'function' ? this.#opts.port() : this.#opts.port, ...(this.#opts.fingerprint ? { fingerprint: this.#opts.fingerprint } : {}), ...(this.#opts.websocket ? { websocket: this.#opts.websocket } : {}), capacity: this.#opts.capacity, ...this.#opts.state(), ...(this.#opts.trunk ? { trunk: this.#opts.trunk() } : {}), ...(this.#opts.report ? { report: this.#opts.report() } : {}) };
    for (let i = 0; i < brokers.length; i++) {
      const url = brokers[(this.#next + i) % brokers.length]!;
      const endTimer = this.#metrics?.latency.startTimer();
      try {
        const reply = await this.#post(url, body);
        endTimer?.();
        this.#apply(reply, this.#answered + 1);
        this.#answered++;
        this.#metrics?.beats.inc({ result: 'ok' });
        this.#metrics?.lastOk.set(Date.now() / 1000);
        this.#next = (this.#next + i) % brokers.length;
        if (this.#failures > 0) logger.info({ broker: url }, 'broker reachable again');
        this.#failures = 0;
        this.#lastOk = Date.now();
        return true;
      } catch (err) {
        this.#metrics?.beats.inc({ result: 'failed' });
        logger.warn({ broker: url, code: (err as { code?: unknown }).code, err: (err as Error).message }, 'heartbeat failed; sessions carry on with the last-known keys');
      }
    }
    this.#failures++;
    return false;
  }

  #apply(reply: HeartbeatReply, heartbeat: number): void {
    // The contract holds at least one key: a node never ends up trusting none.
    this.#keys = reply.keys.map(publicKeyFromPem);
    if (this.#opts.keysFile) {
      const tmp = `${this.#opts.keysFile}.tmp`;
      writeFileSync(tmp, JSON.stringify(reply.keys), { mode: 0o600 });
      renameSync(tmp, this.#opts.keysFile);
    }
    if (reply.revoked && this.#opts.revoked) this.#opts.revoked(reply.revoked, heartbeat);
    for (const raw of reply.segments) {
      const parsed = segmentSchema.safeParse(raw);
      if (parsed.success) this.#opts.addSegment(parsed.data);
      else this.#opts.logger.warn({ segment: raw.name, issue: parsed.error.issues[0]?.message }, 'ignoring a segment definition this node does not understand');
    }
    if (reply.peers && this.#opts.peers) this.#opts.peers(reply.peers);
    if (reply.commands?.length && this.#opts.commands) this.#opts.commands(reply.commands);
  }

  /** One heartbeat to one broker: the reply parsed with the contract (EL_ERR_PROTOCOL naming the field). */
  async #post(base: string, body: HeartbeatRequest): Promise<HeartbeatReply> {
    const url = new URL('/v1/nodes/heartbeat', base);
    const quiet = this.#noReport.get(base);
    if (quiet !== undefined && body.report !== undefined) {
      if (Date.now() < quiet) body = (({ report: _, ...plain }) => plain)(body);
      else this.#noReport.delete(base);
    }
    // Our clock now: the broker reads the report's times against it, so the clocks need not agree.
    const headers = { authorization: `Bearer ${this.#opts.clusterSecret}`, [NODE_TIME_HEADER]: formatNodeTime(Date.now()) };
    const answer = await postJson(url, body, { ca: this.#opts.ca, timeoutMs: this.#opts.timeoutMs ?? 3000, maxReplyBytes: 4 << 20, headers });
    if (answer.status === 400 && body.report !== undefined && answer.text.includes('report')) {
      // A broker from before the console refuses the field: beat without it for a while (a rolling upgrade in either order).
      if (!this.#noReport.has(base)) this.#opts.logger.warn({ broker: base }, 'broker takes no console report (an older version): heartbeats to it go without one for 10 minutes');
      this.#noReport.set(base, Date.now() + NO_REPORT_MS);
      const { report: _, ...plain } = body;
      return this.#post(base, plain);
    }
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
    return parseReply(heartbeatReplySchema, answer.json, `the heartbeat reply of broker ${url.origin}`);
  }
}
