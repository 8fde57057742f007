/**
 * SwitchNode: the TLS listener, the hosted segments and the client sessions.
 *
 *   TCP accept: ConnectionGuard (fd reserve, per-source and listener caps and rates)
 *     → TLS handshake (ALPN el/1, handshake timeout) → TlsRecordConn
 *       (ALPN http/1.1 or none: WsUpgrade, ws-upgrade.ts → WsRecordConn)
 *     → acceptConn: Session (ports/session.ts) → hello → admit() (admission/admit.ts:
 *       ticket, replay journal, segment plan) → welcome → Segment.forward
 * Any other transport hands its RecordConn to acceptConn() the same way.
 *
 * Socket and TLS errors end only their own connection. Events before the welcome
 * (refusals, failed handshakes, bad hellos) are logged through an EventSummary: a few
 * per interval, then counts, so strangers do not control the log volume.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer, type Server, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { ALPN, ElError, RESUME_LENGTH, type ErrorCode, type Revocation, type SegmentDef, type TicketClaims } from '@elink/protocol';
import { addDropCounts, addQueueDrops, newDropCounts, type DropCounts } from '../core/drops.js';
import { registerSwitchMetrics, type SegmentSnapshot, type Traffic } from './metrics.js';
import { defaultFlushScheduler, inheritRemote, TlsRecordConn, type QueueOptions, type RecordConn } from '@elink/transport';
import { DEFAULT_CLOSE_GRACE_MS, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_GSO, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HELLO_TIMEOUT_MS, DEFAULT_MAX_SESSIONS, DEFAULT_REPLAY_CACHE_SIZE, DEFAULT_WRITE_TIMEOUT_MS } from './defaults.js';
import { ConnectionGuard, type ConnectionLimits } from './connection-guard.js';
import { ProxyGate, type ProxyProtocolOptions } from './proxy-gate.js';
import { EventSummary } from './event-summary.js';
import { WsUpgrade } from './ws-upgrade.js';
import type { FdBudget } from './fd-budget.js';
import { SWITCH_SESSION_ID_CONTEXT } from './session-ticket-keys.js';
import { ReplayCache } from '../admission/replay-cache.js';
import { Revocations, revokes } from '../admission/revocations.js';
import { liveSettingsChanged } from '../core/segment-settings.js';
import { ReplayJournal } from '../admission/replay-journal.js';
import { createSegment, type Segment } from '../core/segment.js';
import type { Port } from '../core/port.js';
import { Session, type SessionHost } from '../ports/session.js';
import { L3Router, type L3RouterOptions } from '../core/l3/l3-segment.js';
import type { DevicePort } from '../ports/device-port.js';
import { TrunkHub, type TrunkHubOptions, type TrunkStats } from '../trunk/trunk-hub.js';
import type { TrunkSettings } from '../trunk/trunk-defaults.js';
import { DtcpServer, type DtcpServerOptions } from '../dtcp/dtcp-server.js';
import { openSixInFourPlane, type SixInFourOptions, type SixInFourPlane, type SixInFourPlaneImpl } from '../dtcp/six-in-four.js';

export interface SwitchNodeOptions {
  nodeId: string;
  /** The software and version sent in welcome (`software`), e.g. "elink/0.1.0". */
  software?: string;
  /** port 0 = ephemeral (tests). */
  listen: { host: string; port: number };
  tls: {
    cert: string | Buffer;
    key: string | Buffer;
    ciphers?: string;
    minVersion?: 'TLSv1.2' | 'TLSv1.3';
    ecdhCurve?: string;
    /** 48 bytes of TLS session ticket keys (session-ticket-keys.ts); the same on every node
     * lets a client resume its TLS session at any of them. Absent: random per process. */
    ticketKeys?: Buffer;
  };
  /** Parsed with defaults (segmentSchema): L2 and L3 segments. */
  segments: SegmentDef[];
  /** Broker public keys; a function because they rotate. */
  ticketKeys: () => KeyObject[];
  /** The cluster's resume key (resumeKey(cluster secret)): the same on every node lets a
   * returning device resume at any of them. Absent: random per process (resumption at this
   * node only, until it restarts). */
  resumeKey?: Buffer;
  logger: Logger;
  /** Metrics are registered here if given. */
  registry?: Registry;
  /** Defaults: defaults.ts. */
  helloTimeoutMs?: number;
  /** Beyond → EL_ERR_UNAVAILABLE. */
  maxSessions?: number;
  /** How long a peer may stay above the write high-water mark. */
  writeTimeoutMs?: number;
  /** Half-open TLS handshakes are closed after this. */
  handshakeTimeoutMs?: number;
  /** After sending error/bye and end(), destroy the socket after this. */
  closeGraceMs?: number;
  /** Ticket ids remembered until expiry. */
  replayCacheSize?: number;
  /** Accept the "gso" capability (FRAME_GSO records, docs/protocol.md §2.4). */
  gso?: boolean;
  /** Per-session output queue limits (maxFrames, maxBytes, highWaterBytes). */
  queue?: Omit<QueueOptions, 'writeTimeoutMs' | 'scheduler' | 'now'>;
  /** L3 routing: node-wide route limit and ICMP error rate. */
  l3?: L3RouterOptions;
  /** Admission at accept: connections before the welcome, per source and in all, and accept rates. */
  connectionLimits?: Partial<ConnectionLimits>;
  /** PROXY protocol v1/v2 from these load balancer ranges (required from them, refused from others); absent or empty: off. */
  proxyProtocol?: ProxyProtocolOptions;
  /** EL over WebSocket behind an ingress that terminates TLS: a plain-HTTP listener, and the
   * ingress ranges whose X-Forwarded-For names the client. Absent: only the client port's. */
  websocket?: { listen?: { host: string; port: number }; trusted?: readonly string[] };
  /** The process's descriptor budget (shared by its listeners); absent = no fd shedding. */
  fds?: FdBudget;
  /** Summary interval of the pre-auth event log. */
  logIntervalMs?: number;
  /** Pre-auth events logged one by one per interval before only counts are. */
  logSample?: number;
  /** Where used ticket ids are journaled (single use across restarts); absent = memory only. */
  replayJournal?: string;
  /** Trunks to the other nodes of its segments (trunk/trunk-hub.ts); absent = none. */
  trunk?: (Partial<TrunkSettings> & Pick<TrunkSettings, 'secret'> & Pick<TrunkHubOptions, 'liveSegments'>) | undefined;
  /** A DTCP listener (dtcp/dtcp-server.ts, docs/dtcp.md); absent = none. Its admission uses the node's limits, descriptors and PROXY protocol ranges. */
  dtcp?: (Omit<DtcpServerOptions, 'nodeId' | 'logger' | 'registry' | 'fds' | 'connectionLimits' | 'proxyTrusted' | 'proxyTimeoutMs' | 'logIntervalMs' | 'logSample' | 'plane' | 'draining'> & { /** Default: the node's own, sixInFourPlane(). */ plane?: SixInFourPlane }) | undefined;
  /** The 6in4 plane of DTCP tunnels (sixInFourPlane()): tunnel limit, queue, raw socket settings. */
  sixInFour?: Pick<SixInFourOptions, 'maxTunnels' | 'queueFrames' | 'socket'>;
}

/** Frames a session reads live in the flush scheduler's arena until the tick's flush
 * (one allocator for every session: no closure each). */
const allocateFrame = (_type: number, size: number): Buffer => defaultFlushScheduler.arena.alloc(size);
/** One listener for every raw socket's errors, not a closure per connection. */
const ignore = (): void => {};

export interface SwitchNodeStats {
  /** Sessions with a socket (any state). */
  sessions: number;
  established: number;
  opened: number;
  closed: Record<string, number>;
  errors: Record<string, number>;
  traffic: Traffic;
  drops: DropCounts;
  segments: Record<string, { mode: 'l2' | 'l3'; sessions: number; ports: number; macEntries: number; evictions: number; moves: number; routes: number; remote: number; frozen: number; drops: DropCounts }>;
  /** ICMP errors the L3 router sent, and those the node-wide and per-session budgets held back. */
  icmp: { sent: number; limited: number; sessionLimited: number };
  /** Trunks to peer nodes (absent when trunks are off). */
  trunks?: TrunkStats[];
}

export class SwitchNode implements SessionHost {
  readonly nodeId: string;
  readonly software?: string;
  readonly logger: Logger;
  readonly helloTimeoutMs: number;
  readonly maxSessions: number;
  readonly writeTimeoutMs: number;
  readonly closeGraceMs: number;
  readonly gso: boolean;
  readonly replay: ReplayCache;
  /** Device key revocations from the brokers (applyRevocations). */
  readonly revocations = new Revocations();
  /** K of resume-proof.ts (AdmissionState.resumeKey). */
  readonly resumeKey: Buffer;
  readonly guard: ConnectionGuard;
  /** PROXY protocol in front of TLS; undefined when off. */
  readonly proxyGate: ProxyGate | undefined;
  /** EL over WebSocket on the same port (TLS connections that negotiated HTTP). */
  readonly wsUpgrade: WsUpgrade;
  /** Pre-auth events (failed handshakes, bad or missing hello): sampled and summed up. */
  private readonly preAuth: EventSummary;
  private readonly journal: ReplayJournal | undefined;
  private readonly segments = new Map<string, Segment>();
  readonly router: L3Router;
  private readonly unhosted = new Map<string, string>();
  /** TAP bridge and uplink TUN ports, by segment name. */
  private readonly devicePorts = new Map<string, DevicePort>();
  private readonly sessions = new Set<Session>();
  private readonly connections = new Set<Socket>();
  /** TLS state machine only: sockets reach it from `tcp` once admitted. */
  private readonly server: Server;
  private readonly tcp: TcpServer;
  /** The plain-HTTP WebSocket listener (switch.websocket.listen), if any. */
  private readonly wsTcp: TcpServer | undefined;
  private readonly queue: QueueOptions;
  private stopping = false;
  #draining = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private opened = 0;
  private readonly closedBy = new Map<string, number>();
  private readonly errorsBy = new Map<string, number>();
  /** Sessions established, by how they were admitted. */
  private readonly admittedBy = new Map<string, number>();
  /** Totals of sessions that are gone (live ones are summed at read time). */
  private readonly pastTraffic: Traffic = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0 };
  private readonly pastDrops = newDropCounts();
  /** Per segment, totals of its sessions that are gone (the console's segment counters stay monotonic). */
  readonly pastSegmentTraffic = new Map<string, Traffic>();
  /** Trunks to peer nodes; undefined when off. */
  readonly trunks: TrunkHub | undefined;
  /** The DTCP listener; undefined when off. */
  readonly dtcp: DtcpServer | undefined;
  /** The 6in4 plane (DTCP tunnels), once sixInFourPlane() opened it. */
  #sixInFour: SixInFourPlaneImpl | undefined;

  constructor(private readonly opts: SwitchNodeOptions) {
    this.nodeId = opts.nodeId;
    if (opts.software) this.software = opts.software;
    this.logger = opts.logger;
    this.helloTimeoutMs = opts.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    this.maxSessions = opts.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
    this.closeGraceMs = opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
    this.gso = opts.gso ?? DEFAULT_GSO;
    this.resumeKey = opts.resumeKey ?? randomBytes(RESUME_LENGTH);
    this.replay = new ReplayCache(opts.replayCacheSize ?? DEFAULT_REPLAY_CACHE_SIZE);
    if (opts.replayJournal) {
      const { journal, entries } = ReplayJournal.open(opts.replayJournal);
      this.journal = journal;
      this.replay.persistTo(journal, entries);
      this.logger.info({ file: opts.replayJournal, live: entries.length }, 'replay journal loaded');
    }
    this.guard = new ConnectionGuard({ listener: 'switch', limits: opts.connectionLimits, fds: opts.fds, logger: opts.logger, registry: opts.registry, logIntervalMs: opts.logIntervalMs });
    this.preAuth = new EventSummary({ logger: opts.logger, message: 'sessions that failed before welcome', intervalMs: opts.logIntervalMs, sample: opts.logSample });
    this.queue = { ...opts.queue, writeTimeoutMs: this.writeTimeoutMs };
    this.router = new L3Router(opts.l3);
    if (opts.trunk) {
      this.trunks = new TrunkHub({
        port: 0,
        host: opts.listen.host,
        peers: [],
        ...opts.trunk,
        nodeId: opts.nodeId,
        logger: opts.logger.child({ component: 'trunk' }),
        tls: { cert: opts.tls.cert, key: opts.tls.key },
        segment: (name) => this.segments.get(name),
        segmentNames: () => [...this.segments.keys()],
        registry: opts.registry,
        logIntervalMs: opts.logIntervalMs,
        fds: opts.fds,
        gso: this.gso,
      });
    }

    for (const def of opts.segments) this.addSegment(def);
    if (opts.dtcp) {
      const given = opts.dtcp.plane;
      this.dtcp = new DtcpServer({
        ...opts.dtcp,
        plane: () => given ?? this.sixInFourPlane(),
        draining: () => this.#draining,
        nodeId: opts.nodeId,
        logger: opts.logger.child({ component: 'dtcp' }),
        registry: opts.registry,
        fds: opts.fds,
        connectionLimits: opts.connectionLimits,
        proxyTrusted: opts.proxyProtocol?.trusted ?? [],
        proxyTimeoutMs: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
        logIntervalMs: opts.logIntervalMs,
        logSample: opts.logSample,
      });
    }

    const tlsOptions: TlsOptions = {
      cert: opts.tls.cert,
      key: opts.tls.key,
      minVersion: opts.tls.minVersion ?? 'TLSv1.2',
      // el/1 first: a client offering both gets raw EL. http/1.1: EL over WebSocket.
      ALPNProtocols: [ALPN, 'http/1.1'],
      handshakeTimeout: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      sessionIdContext: SWITCH_SESSION_ID_CONTEXT,
    };
    if (opts.tls.ciphers) tlsOptions.ciphers = opts.tls.ciphers;
    if (opts.tls.ecdhCurve) tlsOptions.ecdhCurve = opts.tls.ecdhCurve;
    if (opts.tls.ticketKeys) tlsOptions.ticketKeys = opts.tls.ticketKeys;
    this.proxyGate =
      opts.proxyProtocol && opts.proxyProtocol.trusted.length > 0
        ? new ProxyGate({
            listener: 'switch',
            trusted: opts.proxyProtocol.trusted,
            timeoutMs: tlsOptions.handshakeTimeout!,
            registry: opts.registry,
            onRefused: (reason, peer) => this.preAuth.add(`proxy:${reason}`, { peer, reason }, 'PROXY protocol header refused'),
            onSource: (raw, address, port) => this.guard.readmit(raw, address, port),
          })
        : undefined;
    this.wsUpgrade = new WsUpgrade({
      timeoutMs: tlsOptions.handshakeTimeout!,
      registry: opts.registry,
      allocate: allocateFrame,
      onConn: (conn) => this.acceptConn(conn),
      onRefused: (result, peer) => this.preAuth.add(`websocket:${result}`, { peer, result }, 'WebSocket upgrade refused'),
    });
    // The TCP listener admits (ConnectionGuard) and only then hands a socket to TLS, so a
    // refused connection costs an accept and a close, never a TLS socket.
    this.server = createServer(tlsOptions, (socket) => this.onSecureConnection(socket));
    this.tcp = createTcpServer({ noDelay: true }, (raw) => {
      if (!this.guard.admit(raw)) return;
      raw.on('error', ignore); // reported through tlsClientError / the session
      this.connections.add(raw);
      raw.on('close', () => this.connections.delete(raw));
      if (this.proxyGate) this.proxyGate.pass(raw, (s) => this.server.emit('connection', s));
      else this.server.emit('connection', raw);
    });
    this.guard.reportErrors(this.tcp);
    if (opts.websocket?.listen) {
      // Behind an ingress that terminates TLS: HTTP in the clear from it, the same admission.
      const plain = new WsUpgrade({
        timeoutMs: tlsOptions.handshakeTimeout!,
        registry: opts.registry,
        allocate: allocateFrame,
        trusted: opts.websocket.trusted,
        onSource: (raw, address, port) => this.guard.readmit(raw, address, port),
        onConn: (conn) => this.acceptConn(conn),
        onRefused: (result, peer) => this.preAuth.add(`websocket:${result}`, { peer, result }, 'WebSocket upgrade refused'),
      });
      this.wsTcp = createTcpServer({ noDelay: true }, (raw) => {
        if (!this.guard.admit(raw)) return;
        raw.on('error', () => {});
        this.connections.add(raw);
        raw.on('close', () => this.connections.delete(raw));
        plain.take(raw);
      });
      this.guard.reportErrors(this.wsTcp);
    }
    this.server.on('tlsClientError', (err, socket) => {
      inheritRemote(socket);
      // With a listener attached node leaves the socket open (e.g. on handshake timeout).
      socket.destroy();
      const code = (err as NodeJS.ErrnoException).code ?? 'ERR_TLS';
      this.preAuth.add(`tls:${code}`, { peer: `${socket.remoteAddress}:${socket.remotePort}`, err: err.message }, 'TLS handshake failed');
    });

    if (opts.registry) {
      registerSwitchMetrics(opts.registry, {
        segmentSnapshots: () => this.segmentSnapshots(),
        sessionsOpened: () => this.opened,
        sessionsClosed: () => this.closedBy,
        sessionErrors: () => this.errorsBy,
        admissions: () => this.admittedBy,
        traffic: () => this.traffic(),
        drops: () => this.drops(),
        icmp: () => ({ sent: this.router.icmpSent, limited: this.router.icmpLimited, sessionLimited: this.router.icmpSessionLimited }),
        gsoSegmented: () => {
          let n = 0;
          for (const seg of this.segments.values()) n += seg.gsoEgress.segmented;
          return n;
        },
        draining: () => this.#draining,
        capacity: () => this.maxSessions,
      });
    }
  }

  /**
   * Hosts a segment from now on (at construction, or later when the broker's registry
   * names one). Returns false when the segment is already hosted (definitions do not
   * change under live sessions) or cannot be hosted by this node.
   */
  addSegment(def: SegmentDef): boolean {
    if (this.segments.has(def.name)) return false;
    this.unhosted.delete(def.name);
    const seg = createSegment(def, { router: this.router, lookup: (name) => this.segments.get(name) });
    this.segments.set(def.name, seg);
    try {
      const port = seg.openLanPort(this.logger);
      if (port) this.devicePorts.set(def.name, port);
    } catch (e) {
      // The segment still serves its clients; only the LAN side is missing.
      const err = e instanceof ElError ? e : new ElError('EL_ERR_TUNTAP', String((e as Error)?.message ?? e));
      this.logger.error({ segment: def.name, code: err.code, err: err.message }, 'segment LAN port not created');
    }
    this.trunks?.segmentsChanged();
    return true;
  }

  /**
   * New values of a hosted segment's live settings (LIVE_SEGMENT_SETTINGS: a config reload,
   * or a broker's heartbeat reply after its reload); other differences are ignored, the
   * segment stays as hosted. Returns the settings that changed (none: nothing happens).
   */
  updateSegment(def: SegmentDef): string[] {
    const seg = this.segments.get(def.name);
    if (!seg) return [];
    const changed = liveSettingsChanged(seg.def, def);
    if (changed.length === 0) return [];
    seg.applySettings(def);
    this.logger.info({ segment: def.name, changed }, 'segment settings changed');
    return changed;
  }

  /**
   * The node's 6in4 plane (DTCP tunnels into its L3 segments), opened on the first call
   * and the same one after: one raw IPv4 protocol-41 socket for the node (CAP_NET_RAW;
   * throws ElError EL_ERR_TUNTAP without it). Closed by stop().
   */
  sixInFourPlane(): SixInFourPlane {
    this.#sixInFour ??= openSixInFourPlane({ ...this.opts.sixInFour, segment: (name) => this.segments.get(name), logger: this.logger.child({ component: '6in4' }), registry: this.opts.registry });
    return this.#sixInFour;
  }

  /** The TAP bridge / uplink port of a segment (tests, admin). */
  devicePort(segment: string): DevicePort | undefined {
    return this.devicePorts.get(segment);
  }

  /** Names of the segments this node hosts (for the broker's registry). */
  hostedSegments(): string[] {
    return [...this.segments.keys()];
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new ElError('EL_ERR_CONFIG', `cannot listen on ${this.opts.listen.host}:${this.opts.listen.port}: ${err.message}`, { cause: err }));
      this.tcp.once('error', onError);
      this.tcp.listen(this.opts.listen.port, this.opts.listen.host, () => {
        this.tcp.off('error', onError);
        resolve();
      });
    });
    const wsListen = this.opts.websocket?.listen;
    if (this.wsTcp && wsListen) {
      const wsTcp = this.wsTcp;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(new ElError('EL_ERR_CONFIG', `cannot listen on ${wsListen.host}:${wsListen.port} (switch.websocket.listen): ${err.message}`, { cause: err }));
        wsTcp.once('error', onError);
        wsTcp.listen(wsListen.port, wsListen.host, () => {
          wsTcp.off('error', onError);
          resolve();
        });
      });
    }
    // Aging also happens on lookup; the sweep frees memory of MACs nobody asks for.
    this.sweepTimer = setInterval(() => {
      try {
        for (const s of this.segments.values()) s.sweep();
      } catch (e) {
        this.logger.error({ err: (e as Error)?.message }, 'MAC table sweep failed');
      }
    }, 5000);
    this.sweepTimer.unref();
    if (this.trunks) await this.trunks.start();
    if (this.dtcp) {
      // The node's own plane is a raw socket (CAP_NET_RAW): opened now, so a node that cannot fails at start, not at the first tunnel.
      if (!this.opts.dtcp?.plane) this.sixInFourPlane();
      await this.dtcp.start();
    }
    const a = this.address();
    this.logger.info({ node: this.nodeId, host: a.host, port: a.port, segments: [...this.segments.keys()] }, 'switch listening');
  }

  /**
   * A new certificate and key (a config reload): handshakes from now on use them;
   * established sessions keep the ones they were made with. Ciphers, curves and the
   * minimum version stay as configured at start. Throws when the key does not match.
   */
  setSecureContext(tls: { cert: string | Buffer; key: string | Buffer }): void {
    // Node resets every context option not given (ciphers, curve, versions): pass them all again.
    const { minVersion, ciphers, ecdhCurve } = this.opts.tls;
    this.server.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: minVersion ?? 'TLSv1.2', sessionIdContext: SWITCH_SESSION_ID_CONTEXT, ...(ciphers ? { ciphers } : {}), ...(ecdhCurve ? { ecdhCurve } : {}) });
    // Keep the shared ticket keys: resumption across nodes must survive a certificate reload.
    if (this.opts.tls.ticketKeys) this.server.setTicketKeys(this.opts.tls.ticketKeys);
  }

  /**
   * Device key revocations from a broker's heartbeat reply: from now on their tickets are
   * refused (EL_ERR_REVOKED), and established sessions they cover are closed with that
   * error. Returns how many sessions were closed. `heartbeat`: which answered heartbeat
   * brought them (BrokerLink), logged; absent when the broker in this process hands them over.
   */
  applyRevocations(list: readonly Revocation[], heartbeat?: number): number {
    const fresh = this.revocations.apply(list);
    if (fresh.length === 0) return 0;
    // By user: a node starting with a full list and many sessions checks each session against its user's few.
    const byUser = new Map<string, Revocation[]>();
    for (const r of fresh) byUser.set(r.user, [...(byUser.get(r.user) ?? []), r]);
    let n = 0;
    for (const s of [...this.sessions]) {
      const c = s.claims;
      if (c && s.state === 'established' && byUser.get(c.sub)?.some((r) => revokes(r, c))) {
        s.fail(new ElError('EL_ERR_REVOKED', 'the device key of this session was revoked; log in with the password again'));
        n++;
      }
    }
    this.logger.info({ revocations: fresh.map((r) => ({ user: r.user, device: r.device, at: r.at })), sessions: n, ...(heartbeat !== undefined ? { heartbeat } : {}) }, 'device keys revoked');
    return n;
  }

  /**
   * Ends with `bye` every established session whose user may no longer be in its segment
   * (a config reload removed the user, or the segment from the user's list). The client
   * then logs in again, and the broker refuses it. Returns how many sessions were ended.
   */
  endSessions(gone: (user: string, segment: string) => boolean, reason: string): number {
    let n = 0;
    for (const s of [...this.sessions]) {
      const c = s.claims;
      if (c && gone(c.sub, c.seg)) {
        s.close(reason);
        n++;
      }
    }
    // DTCP tunnels are sessions of their users too.
    if (this.dtcp) n += this.dtcp.endTunnels(gone, reason);
    if (n) this.logger.info({ sessions: n, reason }, 'sessions ended');
    return n;
  }

  /** Every session with a socket (the console's report reads them; do not change the set). */
  liveSessions(): ReadonlySet<Session> {
    return this.sessions;
  }

  /** Ends one session with `bye` (an administrator's disconnect). False when no such session is live. */
  kick(id: string, reason = 'disconnected by an administrator'): boolean {
    for (const s of this.sessions) {
      if (s.name !== id || s.state === 'closing' || s.state === 'closed') continue;
      this.logger.info({ session: id, user: s.user, reason }, 'session kicked');
      s.close(reason);
      return true;
    }
    return false;
  }

  /** True while the TLS listener accepts connections (readiness). */
  get listening(): boolean {
    return this.tcp.listening;
  }

  address(): { host: string; port: number } {
    const a = this.tcp.address();
    if (a === null || typeof a === 'string') return { host: this.opts.listen.host, port: this.opts.listen.port };
    return { host: a.address, port: a.port };
  }

  /** The plain-HTTP WebSocket listener's address (switch.websocket.listen), if there is one. */
  websocketAddress(): { host: string; port: number } | undefined {
    const a = this.wsTcp?.address();
    if (!a || typeof a === 'string') return undefined;
    return { host: a.address, port: a.port };
  }

  /** True once drain() was called: new sessions are refused, heartbeats say so. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Drains the node (SIGTERM, rollout): from now on new connections are refused with
   * EL_ERR_UNAVAILABLE; `announce` (the heartbeat that tells the brokers, bounded to 2 s)
   * runs first so logins stop choosing this node; then every session gets `redirect`
   * and its client logs in again, landing on another node. Resolves when the sessions
   * are gone or after `timeoutMs`; stop() ends whatever is left.
   */
  async drain(reason = 'drain', opts: { timeoutMs?: number; announce?: () => Promise<unknown> } = {}): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.logger.info({ node: this.nodeId, reason, sessions: this.sessions.size }, 'draining');
    if (opts.announce) await Promise.race([opts.announce().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
    for (const s of [...this.sessions]) s.redirect(reason);
    await this.waitFor(() => this.sessions.size === 0, opts.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
  }

  /** Sends bye to every session, closes the listener, and resolves when every
   * socket is gone (sockets still open after the close grace are destroyed). */
  async stop(reason = 'shutdown'): Promise<void> {
    this.stopping = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.guard.stop();
    this.preAuth.stop();
    this.tcp.close(() => {});
    this.wsTcp?.close(() => {});
    await this.trunks?.stop();
    await this.dtcp?.stop(reason);
    await this.#sixInFour?.close();
    for (const s of [...this.sessions]) s.close(reason);
    const gone = (): boolean => this.sessions.size === 0 && this.connections.size === 0;
    await this.waitFor(gone, this.closeGraceMs + 500);
    for (const s of this.sessions) s.conn.destroy();
    for (const raw of this.connections) raw.destroy();
    await this.waitFor(gone, 1000);
    for (const [name, port] of this.devicePorts) {
      this.segments.get(name)?.detach(port);
      port.close();
    }
    this.devicePorts.clear();
    this.journal?.close();
    this.logger.info({ node: this.nodeId, reason }, 'switch stopped');
  }

  private async waitFor(cond: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  get stats(): SwitchNodeStats {
    const segments: SwitchNodeStats['segments'] = {};
    for (const snap of this.segmentSnapshots()) {
      const seg = this.segments.get(snap.name)!;
      segments[snap.name] = { mode: seg.mode, sessions: snap.sessions, ...seg.stats(), drops: { ...seg.drops } };
    }
    let established = 0;
    for (const s of this.sessions) if (s.state === 'established') established++;
    return {
      sessions: this.sessions.size,
      established,
      opened: this.opened,
      closed: Object.fromEntries(this.closedBy),
      errors: Object.fromEntries(this.errorsBy),
      traffic: this.traffic(),
      drops: this.drops(),
      segments,
      icmp: { sent: this.router.icmpSent, limited: this.router.icmpLimited, sessionLimited: this.router.icmpSessionLimited },
      ...(this.trunks ? { trunks: this.trunks.stats() } : {}),
    };
  }

  /** The hosted segment object (for tests and the admin API). */
  segmentByName(name: string): Segment | undefined {
    return this.segments.get(name);
  }

  // ---- SessionHost ----

  ticketKeys(): KeyObject[] {
    return this.opts.ticketKeys();
  }

  segment(name: string): Segment | string {
    return this.segments.get(name) ?? this.unhosted.get(name) ?? `this node does not host segment "${name}"`;
  }

  claimsOn(port: Port): TicketClaims | undefined {
    return this.sessionOf(port)?.claims;
  }

  sessionOf(port: unknown): Session | undefined {
    return port instanceof Session && this.sessions.has(port) ? port : undefined;
  }

  established(s: Session): void {
    this.opened++;
    if (s.admittedBy) this.admittedBy.set(s.admittedBy, (this.admittedBy.get(s.admittedBy) ?? 0) + 1);
    this.guard.authenticated(s.conn.remoteAddress, s.conn.remotePort);
    this.logger.info({ peer: s.peer, user: s.user, segment: s.segment?.name, session: s.name, device: s.claims?.dev }, 'session opened');
  }

  closed(s: Session): void {
    if (!this.sessions.delete(s)) return;
    const t = this.pastTraffic;
    t.framesIn += s.framesIn;
    t.bytesIn += s.bytesIn;
    t.framesOut += s.output.framesOut;
    t.bytesOut += s.output.bytesOut;
    addQueueDrops(this.pastDrops, s.output.drops);
    if (s.segment) {
      let seg = this.pastSegmentTraffic.get(s.segment.name);
      if (!seg) this.pastSegmentTraffic.set(s.segment.name, (seg = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0 }));
      seg.framesIn += s.framesIn;
      seg.bytesIn += s.bytesIn;
      seg.framesOut += s.output.framesOut;
      seg.bytesOut += s.output.bytesOut;
    }
    if (s.claims === undefined) return; // never established: counted as an error, not a session
    const reason = s.closeReason ?? 'peer_closed';
    this.closedBy.set(reason, (this.closedBy.get(reason) ?? 0) + 1);
    this.logger.info(
      {
        peer: s.peer,
        user: s.user,
        segment: s.segment?.name,
        session: s.name,
        reason,
        durationMs: Date.now() - s.openedAt,
        bytesIn: s.bytesIn,
        bytesOut: s.output.bytesOut,
        framesIn: s.framesIn,
        framesOut: s.output.framesOut,
        dropped: s.output.drops.queue_full + s.output.drops.slow_peer,
      },
      'session closed',
    );
  }

  sessionError(code: ErrorCode): void {
    this.errorsBy.set(code, (this.errorsBy.get(code) ?? 0) + 1);
  }

  preAuthFailed(s: Session, err: ElError): void {
    this.preAuth.add(err.code, { peer: s.peer, session: s.name, code: err.code }, err.message);
  }

  // ---- internals ----

  private onSecureConnection(socket: TLSSocket): void {
    inheritRemote(socket);
    if (socket.alpnProtocol === 'http/1.1' || socket.alpnProtocol === false) return this.wsUpgrade.take(socket);
    if (socket.alpnProtocol !== ALPN) {
      this.preAuth.add('no_alpn', { peer: `${socket.remoteAddress}:${socket.remotePort}`, alpn: socket.alpnProtocol }, `connection without ALPN ${ALPN} refused`);
      socket.destroy();
      return;
    }
    this.acceptConn(TlsRecordConn.accept(socket, { allocate: allocateFrame }));
  }

  /**
   * Runs a session on an admitted record connection: the TLS listener's, and any other
   * transport's (a WebSocket listener, an in-memory conn in tests). A conn reading frames
   * must put them in the FlushScheduler's arena or memory of their own.
   */
  acceptConn(conn: RecordConn): Session {
    const session = new Session(conn, this, this.queue);
    this.sessions.add(session);
    if (this.stopping || this.#draining) session.fail(new ElError('EL_ERR_UNAVAILABLE', 'this node is shutting down; connect through the broker again'));
    else if (this.sessions.size > this.maxSessions) session.fail(new ElError('EL_ERR_UNAVAILABLE', `this node is at its limit of ${this.maxSessions} sessions; try another node`));
    return session;
  }

  private segmentSnapshots(): SegmentSnapshot[] {
    const sessions = new Map<string, number>();
    for (const s of this.sessions) if (s.state === 'established' && s.segment) sessions.set(s.segment.name, (sessions.get(s.segment.name) ?? 0) + 1);
    return [...this.segments.values()].map((seg) => {
      const { macEntries, evictions, moves, routes } = seg.stats();
      return { name: seg.name, sessions: sessions.get(seg.name) ?? 0, macEntries, evictions, moves, routes };
    });
  }

  private traffic(): Traffic {
    const t = { ...this.pastTraffic };
    for (const s of this.sessions) {
      t.framesIn += s.framesIn;
      t.bytesIn += s.bytesIn;
      t.framesOut += s.output.framesOut;
      t.bytesOut += s.output.bytesOut;
    }
    if (this.#sixInFour) {
      const x = this.#sixInFour.totals();
      t.framesIn += x.packetsIn;
      t.bytesIn += x.bytesIn;
      t.framesOut += x.packetsOut;
      t.bytesOut += x.bytesOut;
    }
    return t;
  }

  private drops(): DropCounts {
    const d = addDropCounts(newDropCounts(), this.pastDrops);
    for (const seg of this.segments.values()) addDropCounts(d, seg.drops);
    for (const s of this.sessions) addQueueDrops(d, s.output.drops);
    for (const p of this.devicePorts.values()) addQueueDrops(d, p.output.drops);
    if (this.trunks) addQueueDrops(d, this.trunks.queueDrops());
    if (this.#sixInFour) addQueueDrops(d, { ...this.#sixInFour.totals(), slow_peer: 0 });
    return d;
  }
}
