/**
 * TrunkHub: a node's trunks to its peer nodes (docs/cluster.md "Trunks").
 *
 * - Listens on `switch.trunk.port` (TLS, ALPN el-trunk/1); every peer proves the trunk
 *   secret bound to the connection (trunk-auth.ts), or is refused: logged (sampled),
 *   counted (el_trunk_connects_total{result="auth_failed"}) and closed.
 * - Dials every peer it knows (static `switch.trunk.peers`, and the broker's heartbeat
 *   reply): a peer's hosts in turn (the next one right after a failed connect or
 *   handshake), backing off only after all failed, and first the host that last worked;
 *   a peer whose node already has a trunk up is not dialed again until that trunk goes.
 * - One trunk per pair of nodes: when two come up (both dialed), the one dialed by the
 *   lower node id stays, the other is closed ("duplicate"); both ends decide the same.
 * - Tells the trunks what each segment's local endpoints do (EndpointListener), and
 *   reports frozen MACs; tells the up trunks when the node hosts another segment
 *   (segmentsChanged → Trunk.offerGrew).
 * - When a key is free again (a local endpoint went, a peer withdrew it, its trunk went),
 *   installs the best announcement of it that a trunk port kept shadowed (trunk-shadow.ts);
 *   none, and a port's full shadow dropped keys: asks that peer for the table again (resync).
 */
import type { X509Certificate } from 'node:crypto';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ElError, MAX_REPORT_TRUNKS, TRUNK_ALPN, type ReportTrunk, type TrunkSegment } from '@elink/protocol';
import { Backoff, defaultFlushScheduler, inheritRemote, TlsRecordConn, type RecordConn } from '@elink/transport';
import type { Segment } from '../core/segment.js';
import { DROP_REASONS } from '../core/drops.js';
import type { RemoteVerdict } from '../core/endpoints.js';
import { EventSummary } from '../node/event-summary.js';
import { ConnectionGuard } from '../node/connection-guard.js';
import type { FdBudget } from '../node/fd-budget.js';
import { certificateNodeNames, isCertificateError, peerChain, trunkKeyingMaterial, type TrunkRole } from './trunk-auth.js';
import { trunkSegmentId } from './segment-id.js';
import { anchoredIn, checkTrunkTrust, trunkCredentials, type TrunkCredentials } from './trunk-credentials.js';
import { RESYNC_ACTIONS, Trunk, TRUNK_DOWN_REASONS, type ResyncAction, type TrunkHost, type TrunkLimits, type TrunkPort } from './trunk.js';
import { droppedPorts, reinstate, shadowedElsewhere } from './trunk-shadow.js';
import { DEFAULT_GSO } from '../node/defaults.js';
import { peerMayBeGone, type PeerBackListener, type PeerLostListener } from './peer-lost.js';
import { DEFAULT_RESYNC_INTERVAL_MS, DEFAULT_TRUNK, DEFAULT_TRUNK_CONNECTION_LIMITS, DEFAULT_TRUNK_PORT, type TrunkSettings } from './trunk-defaults.js';

export interface TrunkHubOptions extends Partial<TrunkSettings> {
  /** The trunk secret; may be empty with a cluster CA (clusterCa). */
  secret: string;
  nodeId: string;
  logger: Logger;
  tls: { cert: string | Buffer; key: string | Buffer };
  /** The hosted segment by name. */
  segment(name: string): Segment | undefined;
  /** Names of the hosted segments. */
  segmentNames(): string[];
  registry?: Registry;
  /** Pre-auth log summary interval. */
  logIntervalMs?: number;
  /** The process's descriptor budget (shared with the other listeners). */
  fds?: FdBudget;
  /** Offer "gso" and "uso" in trunk_hello (TRUNK_FRAME_GSO); the node's `gso` setting. Default true. */
  gso?: boolean;
  /** Offer "segments" in trunk_hello (a new segment is told over the trunk). Default true;
   * false only to stand for a node older than it (tests of a mixed-version cluster). */
  liveSegments?: boolean;
  /** Offer "resync" in trunk_hello (a peer may ask for a segment's table again). Default true;
   * false only to stand for a node older than it. */
  resync?: boolean;
  /** Offer "mobility" in trunk_hello (owners and ages in adds; a session whose device a peer
   * admitted later is ended). Default true; false only to stand for a node older than it. */
  mobility?: boolean;
  /** Resyncs asked and answered per trunk port at most once per this; default
   * DEFAULT_RESYNC_INTERVAL_MS (shorter in tests). */
  resyncIntervalMs?: number;
}

/** A peer to dial, and what a heartbeat said of it. */
export interface TrunkPeer {
  /** Its hosts, tried in turn (at most MAX_PEER_HOSTS are used). */
  hosts: string[];
  port: number;
  /** The node id when known (broker), else learned from its hello. */
  node?: string;
}

export interface TrunkStats {
  peer: string;
  address: string;
  role: 'dial' | 'accept';
  state: 'hello' | 'up' | 'closed';
  segments: string[];
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  remote: number;
  /** Frames from the peer dropped: a segment not shared, or longer than its FRAME limit. */
  refused: number;
  upSeconds: number;
  /** Both ends named "gso": super-frames cross whole (TRUNK_FRAME_GSO). */
  gso: boolean;
  /** Both ends named "uso" too: UDP super-frames cross whole as well. */
  uso: boolean;
}

/** Frames from a trunk read into the flush scheduler's arena, as a session's. */
const allocateFrame = (_type: number, size: number): Buffer => defaultFlushScheduler.arena.alloc(size);

/** Hosts of one peer dialed in turn (the heartbeat contract's bound, for static peers too). */
export const MAX_PEER_HOSTS = 8;

class Dialer {
  readonly backoff: Backoff;
  timer: NodeJS.Timeout | undefined;
  trunk: Trunk | undefined;
  socket: TLSSocket | undefined;
  node: string | undefined;
  stopped = false;
  hosts: string[];
  port: number;
  /** The host dialed now (index into hosts). */
  at = 0;
  /** The host the last trunk came up over: each round starts there. */
  preferred = 0;
  /** Hosts that failed in this round; all of them failed: back off. */
  failures = 0;
  /** The connection dialed now proved the peer (its hello verified). */
  reached = false;

  constructor(
    readonly key: string,
    peer: TrunkPeer,
    readonly isStatic: boolean,
    minMs: number,
    maxMs: number,
  ) {
    this.backoff = new Backoff({ baseMs: minMs, capMs: maxMs });
    this.node = peer.node;
    this.hosts = peer.hosts.slice(0, MAX_PEER_HOSTS);
    this.port = peer.port;
  }

  get host(): string {
    return this.hosts[this.at];
  }

  /** A newer heartbeat's hosts and port: the host that worked stays first if still listed. */
  update(peer: TrunkPeer): void {
    const hosts = peer.hosts.slice(0, MAX_PEER_HOSTS);
    if (peer.port === this.port && hosts.join() === this.hosts.join()) return;
    const worked = this.hosts[this.preferred];
    const now = hosts.indexOf(this.hosts[this.at]);
    this.hosts = hosts;
    this.port = peer.port;
    this.preferred = Math.max(0, hosts.indexOf(worked));
    // A host no longer listed is not dialed again (nor indexed past the end of the list).
    this.at = now >= 0 ? now : this.preferred;
    this.failures = 0;
  }
}

/** A peer's dialer key: its node id when known (broker), else its first address (static). */
function peerKey(p: TrunkPeer): string {
  return p.node !== undefined ? `node:${p.node}` : `${p.hosts[0]}:${p.port}`;
}

export class TrunkHub implements TrunkHost {
  readonly nodeId: string;
  readonly logger: Logger;
  readonly gso: boolean;
  readonly liveSegments: boolean;
  readonly takesResync: boolean;
  readonly takesMobility: boolean;
  readonly limits: TrunkLimits;
  private readonly settings: TrunkSettings;
  /** The trunk secret ('' without one). */
  private readonly secret: string;
  /** With a cluster CA: the TLS context of both directions and the proof keys; a reload
   * swaps them (setCredentials) for the next handshakes. */
  private credentials: TrunkCredentials | undefined;
  /** With credentials: a peer without a certificate of the CA is refused (else admitted on the secret). */
  private requireCert: boolean;
  /** The TLS half of the trunk listener, from start(). */
  private server: Server | undefined;
  /** Up trunks by peer node id. */
  private readonly byNode = new Map<string, Trunk>();
  /** Every trunk with a connection (hello and up). */
  private readonly trunks = new Set<Trunk>();
  private readonly dialers = new Map<string, Dialer>();
  /** With a cluster CA: the node names each trunk's verified certificate names, and its chain. */
  private readonly certified = new WeakMap<Trunk, Certified>();
  private readonly ids = new Map<number, string>();
  /** The trunk listener, from start(). */
  private tcp: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly preAuth: EventSummary;
  private readonly notInstalledLog: EventSummary;
  private stopped = false;
  /** Totals of trunks that are gone, by peer node (metrics stay monotonic); bounded by maxPeers. */
  private readonly past = new Map<string, PastTraffic>();
  private readonly announced = { in: 0, out: 0 };
  private readonly pastDrops = { queue_full: 0, slow_peer: 0, device_drop: 0 };
  private readonly connects: Counter<'peer' | 'result'> | undefined;
  private readonly downs: Counter<'peer' | 'reason'> | undefined;
  private readonly resyncs: Counter<'peer' | 'action'> | undefined;
  /** Admission at accept on the trunk port (limits before the proof). */
  private readonly guard: ConnectionGuard;
  /** Told when a peer node may be gone (peer-lost.ts): the broker link beats early. */
  private readonly lostListeners: PeerLostListener[] = [];
  /** Told when a trunk comes back to a peer a report listed down: the broker link beats early. */
  private readonly backListeners: PeerBackListener[] = [];

  constructor(private readonly opts: TrunkHubOptions) {
    this.nodeId = opts.nodeId;
    this.logger = opts.logger;
    this.secret = opts.secret;
    this.credentials = opts.clusterCa ? trunkCredentials(opts.clusterCa) : undefined;
    this.requireCert = opts.requireCert ?? true;
    checkTrunkTrust(this.secret, this.credentials, this.requireCert);
    if (this.credentials?.issuerMissing) this.warnIssuer(this.credentials);
    this.gso = opts.gso ?? DEFAULT_GSO;
    this.liveSegments = opts.liveSegments ?? true;
    this.takesResync = opts.resync ?? true;
    this.takesMobility = opts.mobility ?? true;
    this.settings = { ...DEFAULT_TRUNK, port: DEFAULT_TRUNK_PORT, host: '0.0.0.0', peers: [], ...withoutUndefined(opts) };
    const s = this.settings;
    this.limits = {
      maxRemotePerSegment: s.maxRemotePerSegment,
      announceRate: s.announceRate,
      announceBurst: s.announceBurst,
      helloTimeoutMs: s.helloTimeoutMs,
      keepaliveMs: s.keepaliveMs,
      keepaliveMissed: s.keepaliveMissed,
      resyncIntervalMs: opts.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS,
      queue: { ...s.queue },
    };
    this.preAuth = new EventSummary({ logger: opts.logger, message: 'trunk connections refused', intervalMs: opts.logIntervalMs });
    this.guard = new ConnectionGuard({ listener: 'trunk', limits: DEFAULT_TRUNK_CONNECTION_LIMITS, fds: opts.fds, logger: opts.logger, registry: opts.registry, logIntervalMs: opts.logIntervalMs });
    this.notInstalledLog = new EventSummary({ logger: opts.logger, message: 'trunk announcements not installed', intervalMs: opts.logIntervalMs });
    if (opts.registry) {
      this.connects = this.registerMetrics(opts.registry);
      this.downs = new Counter({ name: 'el_trunk_downs_total', help: `Up trunks that went down, by peer node and reason (${TRUNK_DOWN_REASONS.join(', ')}; timeout: no record for switch.trunk.keepaliveMissed keepalive intervals).`, labelNames: ['peer', 'reason'], registers: [opts.registry] });
      this.resyncs = new Counter({
        name: 'el_trunk_resyncs_total',
        help: `A segment's table asked again of a peer node whose announcements a full shadow dropped (a key came free that none kept takes), by peer and action (${RESYNC_ACTIONS.join(', ')}; unsupported: the peer lacks the resync capability, once per trunk and segment).`,
        labelNames: ['peer', 'action'],
        registers: [opts.registry],
      });
    }
  }

  /** How peers prove themselves now: a cluster CA or not, and whether its certificate is required. */
  get trust(): { clusterCa: boolean; requireCert: boolean } {
    return { clusterCa: this.credentials !== undefined, requireCert: this.requireCert };
  }

  /** The key of this node's hello proof: the secret, else (cluster CA) a CA's (trunk-credentials.ts). */
  get proofKey(): string {
    return this.secret || this.credentials!.proofKey;
  }

  get proofKeys(): readonly string[] {
    return this.secret ? [this.secret] : this.credentials!.proofKeys;
  }

  /**
   * New trunk trust (a config reload): cluster CA files, none (back to the secret alone), and
   * whether a peer must show a certificate of the CA. The next trunk handshakes, accepted
   * and dialed, use them; established trunks keep running on what they were admitted with
   * (docs/cluster.md "Rotating the cluster CA"). `next` is built (and so checked) by the
   * caller first; a trust the secret cannot carry is refused before anything changes.
   */
  setCredentials(next: TrunkCredentials | undefined, requireCert = this.requireCert): void {
    checkTrunkTrust(this.secret, next, requireCert);
    const before = this.credentials;
    this.server?.setSecureContext(next ? this.listenerTls(next) : this.plainTls());
    this.credentials = next;
    this.requireCert = requireCert;
    if (next?.issuerMissing) this.warnIssuer(next);
    if (!next) {
      if (before) this.logger.info({ trunks: this.byNode.size }, 'trunk cluster CA removed: trunks are admitted on the secret alone from now on; established trunks keep running');
      return;
    }
    this.logger.info({ cas: next.cas.map((c) => c.subject.replaceAll('\n', ', ')), requireCert, trunks: this.byNode.size, ...(before ? {} : { added: true }) }, 'trunk certificates reloaded; established trunks keep running');
    // Kept, not cut (docs/cluster.md "Rotating the cluster CA"), but said: these would not come back.
    const stale = [...this.byNode].filter(([, t]) => {
      const c = this.certified.get(t);
      return c ? !anchoredIn(c.chain, next.cas) : requireCert;
    });
    if (stale.length > 0) this.logger.warn({ peers: stale.slice(0, 16).map(([peer]) => peer), count: stale.length }, 'trunks whose peer switch.trunk.ca no longer trusts (a certificate of another CA, or none) keep running until they reconnect, and are refused then');
  }

  private warnIssuer(c: TrunkCredentials): void {
    this.logger.warn({ cas: c.cas.length }, 'switch.trunk.cert was not issued by a CA of switch.trunk.ca: peers that trust only that file refuse this node');
  }

  /** The listener's context without a cluster CA: the client port's certificate (peers do not check it). */
  private plainTls(): { cert: string | Buffer; key: string | Buffer; minVersion: 'TLSv1.3' } {
    return { cert: this.opts.tls.cert, key: this.opts.tls.key, minVersion: 'TLSv1.3' };
  }

  /** The context options of the listener: this node's certificate and, to verify a peer's, the CA. */
  private listenerTls(c: TrunkCredentials): { ca: string[]; cert: string | Buffer; key: string | Buffer; minVersion: 'TLSv1.3' } {
    return { ca: [...c.caPems], cert: c.files.cert, key: c.files.key, minVersion: 'TLSv1.3' };
  }

  // ---- lifecycle ----

  async start(): Promise<void> {
    const { host, port } = this.settings;
    const tcp = this.listener();
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new ElError('EL_ERR_LISTEN', `cannot listen for trunks on ${host}:${port}: ${err.message}`, { cause: err }));
      tcp.once('error', onError);
      tcp.listen(port, host, () => {
        tcp.off('error', onError);
        resolve();
      });
    });
    this.segmentsChanged();
    for (const p of this.settings.peers) this.addPeer(parsePeer(p), true);
    this.logger.info({ node: this.nodeId, ...this.address(), peers: this.settings.peers }, 'trunk port listening');
  }

  /** TCP accept (a cap on connections), then TLS with ALPN el-trunk/1. */
  private listener(): TcpServer {
    const s = this.settings;
    const ca = this.credentials;
    // The peer's certificate is always asked for (a CA may come with a reload) and verified
    // against the CA in the handshake; one missing or not of the CA is refused in onAccepted
    // (node:tls would close it unnamed), unless requireCert is off. Without a CA it is unused.
    const server: Server = createServer({ ...(ca ? this.listenerTls(ca) : this.plainTls()), requestCert: true, rejectUnauthorized: false, ALPNProtocols: [TRUNK_ALPN], handshakeTimeout: s.helloTimeoutMs }, (socket) => this.onAccepted(socket));
    this.server = server;
    server.on('tlsClientError', (err, socket) => {
      socket.destroy();
      if (ca && isCertificateError((err as NodeJS.ErrnoException).code)) this.connects?.inc({ peer: 'unauthenticated', result: 'cert_refused' });
      this.preAuth.add(`tls:${(err as NodeJS.ErrnoException).code ?? 'ERR_TLS'}`, { peer: `${socket.remoteAddress}:${socket.remotePort}`, err: err.message }, 'trunk TLS handshake failed');
    });
    const tcp = createTcpServer({ noDelay: true }, (raw) => {
      // Only peers connect here: a few connections per source and in all before their
      // proof, at a few per second (connection-guard.ts); strangers cannot crowd them out.
      if (this.stopped || !this.guard.admit(raw)) {
        if (!raw.destroyed) raw.destroy();
        return;
      }
      raw.on('error', () => {});
      this.track(raw);
      server.emit('connection', raw);
    });
    this.guard.reportErrors(tcp);
    return tcp;
  }

  address(): { host: string; port: number } {
    const a = this.tcp?.address();
    if (!a || typeof a === 'string') return { host: this.settings.host, port: this.settings.port };
    return { host: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.tcp?.close(() => {});
    for (const d of this.dialers.values()) {
      d.stopped = true;
      clearTimeout(d.timer);
    }
    for (const t of [...this.trunks]) t.close('shutdown');
    const deadline = Date.now() + 1500;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.sockets) s.destroy();
    this.preAuth.stop();
    this.notInstalledLog.stop();
    this.guard.stop();
  }

  /**
   * The hosted segments changed (one added; none is ever removed from a live node):
   * registers listeners on the new ones, and tells every up trunk (Trunk.offerGrew: a
   * `segments` message, or a restart for a peer older than it).
   */
  segmentsChanged(): void {
    let added = false;
    for (const name of this.opts.segmentNames()) {
      const id = trunkSegmentId(name);
      const holder = this.ids.get(id);
      if (holder === name) continue;
      if (holder !== undefined) {
        this.logger.error({ segment: name, other: holder, id }, 'two segments share a trunk segment id; this one is not carried over trunks (rename one)');
        continue;
      }
      const seg = this.opts.segment(name)!;
      this.ids.set(id, name);
      seg.listen(
        {
          added: (key, seq) => this.announce(id, key, seq),
          removed: (key) => {
            this.announce(id, key, -1);
            this.reinstate(id, key);
          },
          frozen: (key, moves) => this.logger.warn({ segment: name, mac: key, moves, windowSeconds: this.settings.macMoves.windowSeconds, freezeSeconds: this.settings.macMoves.freezeSeconds }, 'MAC moved between nodes too often (a loop?): frozen'),
        },
        { maxMoves: this.settings.macMoves.maxMoves, windowMs: this.settings.macMoves.windowSeconds * 1000, freezeMs: this.settings.macMoves.freezeSeconds * 1000 },
      );
      added = true;
    }
    if (added) for (const t of [...this.byNode.values()]) t.offerGrew();
  }

  /** Peers from a heartbeat reply: dialed until the next reply leaves them out. */
  setPeers(peers: TrunkPeer[]): void {
    const want = new Set<string>();
    for (const p of peers.slice(0, this.settings.maxPeers)) {
      if (p.node === this.nodeId) continue;
      if (p.hosts.length === 0) continue;
      want.add(peerKey(p));
      this.addPeer(p, false);
    }
    for (const [k, d] of this.dialers) {
      if (d.isStatic || want.has(k)) continue;
      d.stopped = true;
      clearTimeout(d.timer);
      this.dialers.delete(k);
    }
  }

  private addPeer(peer: TrunkPeer, isStatic: boolean): void {
    const key = peerKey(peer);
    const known = this.dialers.get(key);
    if (known) known.update(peer);
    if (known || this.stopped) return;
    if (this.dialers.size >= this.settings.maxPeers) {
      this.logger.warn({ peer: key, maxPeers: this.settings.maxPeers }, 'trunk peer not dialed: switch.trunk.maxPeers reached');
      return;
    }
    const d = new Dialer(key, peer, isStatic, this.settings.reconnectMinMs, this.settings.reconnectMaxMs);
    this.dialers.set(key, d);
    this.dial(d);
  }

  private dial(d: Dialer): void {
    if (d.stopped || this.stopped) return;
    // Its node already has a trunk (it dialed us, or another address of it did): wait.
    if (d.node !== undefined && this.byNode.has(d.node)) {
      this.redial(d, this.settings.reconnectMaxMs);
      return;
    }
    d.reached = false;
    const host = d.host;
    const ca = this.credentials;
    const requireCert = this.requireCert;
    // A cluster CA: the peer's certificate is verified against it; which node it is, is
    // checked against the name in its hello (certifies()), not against the host dialed.
    // Without requireCert one the CA does not verify is let through to the secret's proof.
    const auth = ca ? { secureContext: ca.context, rejectUnauthorized: requireCert, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
    const conn = TlsRecordConn.connect(
      { host, port: d.port, ALPNProtocols: [TRUNK_ALPN], minVersion: 'TLSv1.3', ...auth, servername: isIp(host) ? undefined : host, timeout: this.settings.helloTimeoutMs },
      { allocate: allocateFrame },
    );
    const socket = conn.socket;
    // As on the accepting side: a ping or an ACK must not wait for Nagle behind the peer's delayed ACK.
    socket.setNoDelay(true);
    d.socket = socket;
    this.track(socket);
    let trunk: Trunk | undefined;
    const failed = (why: string, code?: string): void => {
      if (trunk) return;
      this.connects?.inc({ peer: d.node ?? d.key, result: ca && isCertificateError(code) ? 'cert_refused' : 'error' });
      this.logger.debug({ peer: d.node ?? d.key, host, port: d.port, err: why }, 'trunk dial failed');
      socket.destroy();
    };
    socket.once('timeout', () => failed('timeout'));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') this.dialRefused(d);
      failed(e.message, e.code);
    });
    socket.once('close', () => {
      d.socket = undefined;
      if (!trunk) this.hostFailed(d);
    });
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      if (socket.alpnProtocol !== TRUNK_ALPN) {
        failed(`the peer does not speak ${TRUNK_ALPN}`);
        return;
      }
      trunk = this.connect(conn, 'dial', trunkKeyingMaterial(socket), ca && socket.authorized ? certifiedPeer(socket) : undefined);
      d.trunk = trunk;
    });
    // Starts reading (TlsRecordConn.connect reads into the shared buffer); records before
    // the Trunk exists cannot come: the peer speaks after its own handshake end.
  }

  /**
   * The host dialed now failed (connect, TLS or the trunk handshake): the next host at
   * once, or, when every host failed this round, the one that last worked after backoff.
   */
  private hostFailed(d: Dialer): void {
    d.failures++;
    if (d.failures < d.hosts.length) {
      d.at = (d.at + 1) % d.hosts.length;
      this.redial(d, 0);
      return;
    }
    d.failures = 0;
    d.at = d.preferred;
    this.redial(d);
  }

  private redial(d: Dialer, ms = d.backoff.next()): void {
    if (d.stopped || this.stopped) return;
    clearTimeout(d.timer);
    d.timer = setTimeout(() => this.dial(d), ms);
    d.timer.unref();
  }

  private onAccepted(socket: TLSSocket): void {
    inheritRemote(socket);
    const ca = this.credentials;
    if (ca && this.requireCert && !socket.authorized) {
      const why = String(socket.authorizationError ?? 'no certificate');
      this.connects?.inc({ peer: 'unauthenticated', result: 'cert_refused' });
      this.preAuth.add(`cert:${why}`, { peer: `${socket.remoteAddress}:${socket.remotePort}`, err: why }, 'trunk peer without a certificate of the cluster CA (switch.trunk.ca) refused');
      socket.destroy();
      return;
    }
    if (socket.alpnProtocol !== TRUNK_ALPN) {
      this.preAuth.add('no_alpn', { peer: `${socket.remoteAddress}:${socket.remotePort}` }, `connection without ALPN ${TRUNK_ALPN} refused on the trunk port`);
      socket.destroy();
      return;
    }
    this.connect(TlsRecordConn.accept(socket, { allocate: allocateFrame }), 'accept', trunkKeyingMaterial(socket), ca && socket.authorized ? certifiedPeer(socket) : undefined);
  }

  /**
   * Runs a trunk over an established record connection of any transport (the listener's
   * and the dialer's TLS, an in-memory pair in tests). `ekm`: keying material both ends of
   * this connection share (trunk-auth.ts).
   */
  connect(conn: RecordConn, role: TrunkRole, ekm: Buffer, certified?: Certified): Trunk {
    const t = new Trunk(conn, this, role, ekm);
    this.trunks.add(t);
    if (certified !== undefined) this.certified.set(t, certified);
    return t;
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  // ---- TrunkHost ----

  offer(): TrunkSegment[] {
    const out: TrunkSegment[] = [];
    for (const [id, name] of this.ids) {
      const seg = this.opts.segment(name);
      if (seg) out.push({ name, id, mode: seg.mode });
    }
    return out;
  }

  segmentById(id: number): Segment | undefined {
    const name = this.ids.get(id);
    return name === undefined ? undefined : this.opts.segment(name);
  }

  certifies(t: Trunk, node: string): true | string {
    const certified = this.certified.get(t);
    // No certificate of the CA: fine without a CA, or while requireCert is off (the secret's
    // proof, checked with the hello, is the trust then); refused if a reload turned it on since.
    if (!certified) return !this.credentials || !this.requireCert ? true : `the peer node "${node}" shows no certificate of the cluster CA (switch.trunk.ca)`;
    const names = certified.names;
    if (names.includes(node)) return true;
    return `the peer claims node "${node}" but its certificate names ${names.length > 0 ? names.map((n) => `"${n}"`).join(', ') : 'no node'} (DNS subjectAltName); issue each node a certificate of the cluster CA naming its node id`;
  }

  authenticated(t: Trunk): true | string {
    const peer = t.peerNode!;
    if (peer === this.nodeId) {
      this.connects?.inc({ peer, result: 'self' });
      return `that is this node (${peer}): a trunk to itself`;
    }
    const dialer = this.dialerOf(t);
    if (dialer) {
      // The peer proved itself over this host: it is the one to dial first from now on.
      dialer.node = peer;
      dialer.reached = true;
      dialer.preferred = dialer.at;
      dialer.failures = 0;
    }
    const other = this.byNode.get(peer);
    if (other !== undefined) {
      // Both nodes keep the trunk dialed by the lower node id.
      const dialerOf = (x: Trunk): string => (x.role === 'dial' ? this.nodeId : peer);
      const keepNew = dialerOf(t) < dialerOf(other);
      if (!keepNew) {
        this.connects?.inc({ peer, result: 'duplicate' });
        return `a trunk to node ${peer} is already up`;
      }
      other.close('duplicate');
    }
    if (!this.byNode.has(peer) && this.byNode.size >= this.settings.maxPeers) {
      this.connects?.inc({ peer: 'other', result: 'refused' });
      return `node ${this.nodeId} has reached switch.trunk.maxPeers (${this.settings.maxPeers})`;
    }
    this.byNode.set(peer, t);
    this.connects?.inc({ peer, result: 'ok' });
    const past = this.past.get(peer);
    if (past?.reported) {
      past.reported = false;
      for (const fn of this.backListeners) fn(peer);
    }
    if (t.role === 'accept') this.guard.authenticated(t.conn.remoteAddress, t.conn.remotePort);
    if (dialer) {
      dialer.backoff.reset();
      this.logger.info({ peer, host: dialer.host, port: dialer.port, hosts: dialer.hosts.length }, 'trunk dialed');
    }
    return true;
  }

  refused(t: Trunk, reason: string, err: ElError): void {
    // A stranger chooses the node name it claims: never a label.
    this.connects?.inc({ peer: t.role === 'dial' ? this.dialerOf(t)?.key ?? 'unknown' : 'unauthenticated', result: reason });
    this.preAuth.add(`trunk:${reason}`, { peer: t.conn.peer, code: err.code }, err.message);
  }

  closed(t: Trunk): void {
    this.trunks.delete(t);
    // Drop counters stay monotonic (el_switch_frames_dropped_total) after the trunk is gone.
    this.pastDrops.queue_full += t.output.drops.queue_full;
    this.pastDrops.slow_peer += t.output.drops.slow_peer;
    this.pastDrops.device_drop += t.output.drops.device_drop;
    const d = this.dialerOf(t);
    if (d) {
      d.trunk = undefined;
      // Up (or a duplicate of an up trunk) over this host: dial it again after backoff;
      // closed before the peer proved itself: the next host.
      if (d.reached) this.redial(d);
      else this.hostFailed(d);
    }
    if (t.peerNode === undefined || this.byNode.get(t.peerNode) !== t) return;
    this.byNode.delete(t.peerNode);
    const p = this.pastOf(t.peerNode);
    p.framesIn += t.framesIn;
    p.bytesIn += t.bytesIn;
    p.framesOut += t.output.framesOut;
    p.bytesOut += t.output.bytesOut;
    addTrunkDrops(p.drops, t);
    p.downAt = Date.now();
    const reason = t.downReason;
    this.downs?.inc({ peer: t.peerNode, reason });
    this.logger.info({ peer: t.peerNode, reason, code: t.closeReason, address: t.conn.peer }, 'trunk down');
    if (peerMayBeGone(reason)) for (const fn of this.lostListeners) fn(t.peerNode, reason);
    // Its other dialers wait while a trunk is up (dial()): try it again now, with backoff from here on.
    for (const o of this.dialers.values()) if (o !== d && o.node === t.peerNode && o.trunk === undefined && o.socket === undefined) this.redial(o, this.settings.reconnectMinMs);
  }

  /** `fn` hears of every peer node that may be gone (peer-lost.ts). */
  onPeerLost(fn: PeerLostListener): void {
    this.lostListeners.push(fn);
  }

  /**
   * `fn` hears of a trunk up again to a peer that a report (a heartbeat) listed down: the
   * brokers may hold that loss and rank the peer last until they hear the trunk is back
   * (peer-lost.ts). Not a first trunk, nor one back before any report said it was down.
   */
  onPeerBack(fn: PeerBackListener): void {
    this.backListeners.push(fn);
  }

  /**
   * A dial refused (nothing listens: the process is gone) to a node never up since we
   * started: recorded as down from now (the report's `trunks`) and told, once. A node that
   * was up has its loss recorded already, when its trunk went down.
   */
  private dialRefused(d: Dialer): void {
    const node = d.node;
    if (node === undefined || this.byNode.has(node) || this.past.has(node)) return;
    this.pastOf(node).downAt = Date.now();
    for (const fn of this.lostListeners) fn(node, 'refused');
  }

  announcementsIn(n: number): void {
    this.announced.in += n;
  }

  announcementsOut(n: number): void {
    this.announced.out += n;
  }

  notInstalled(t: Trunk, segment: string, key: string, verdict: RemoteVerdict): void {
    this.notInstalledLog.add(verdict, { peer: t.peer, segment, endpoint: key, verdict }, `announcement not installed (${verdict})`);
  }

  // ---- state ----

  /** `key` is free in segment `id` (a local endpoint went, a peer withdrew it or its trunk
   * went): the best announcement of it an up trunk keeps shadowed takes its place. */
  reinstate(id: number, key: string): void {
    const seg = this.segmentById(id);
    const l3 = seg?.mode === 'l3';
    reinstate(this.byNode, id, key, l3, this.limits.maxRemotePerSegment);
    // Still free: a peer whose announcements a full shadow dropped may have had it: ask again.
    if (seg !== undefined && !seg.holds(key)) for (const p of droppedPorts(this.byNode, id, l3)) p.trunk.requestResync(p);
  }

  resynced(t: Trunk, port: TrunkPort, action: ResyncAction): void {
    this.resyncs?.inc({ peer: t.peer, action });
    const fields = { peer: t.peer, segment: port.segment.name };
    if (action === 'unsupported') this.logger.info(fields, "announcements of this peer not kept (its shadow was full) wait for its next change or full sync: it does not take resync (an older node)");
    else if (action === 'requested') this.logger.debug({ ...fields, dropped: port.dropped }, "asked the peer for the segment's table again (its shadow had dropped keys)");
    else this.logger.debug(fields, "sent the segment's table again (the peer asked)");
  }

  shadowedElsewhere(t: Trunk): number {
    return shadowedElsewhere(this.byNode, t);
  }

  /** A segment's local endpoint changed: every up trunk carrying it hears of it. */
  private announce(id: number, key: string, seq: number): void {
    for (const t of this.byNode.values()) t.queueAnnouncement(id, key, seq);
  }

  private dialerOf(t: Trunk): Dialer | undefined {
    for (const d of this.dialers.values()) if (d.trunk === t) return d;
    return undefined;
  }

  private pastOf(node: string): PastTraffic {
    let p = this.past.get(node);
    if (!p) {
      if (this.past.size >= this.settings.maxPeers * 4) this.past.delete(this.past.keys().next().value!);
      this.past.set(node, (p = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, drops: new Map(), downAt: 0 }));
    }
    return p;
  }

  /** Frames dropped on trunks to each peer node, by reason, since this node started (the
   * trunks gone and the up one): el_trunk_dropped_frames_total. Reasons with a count only. */
  droppedByPeer(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    for (const [peer, p] of this.past) if (p.drops.size > 0) out.set(peer, new Map(p.drops));
    for (const [peer, t] of this.byNode) {
      let m = out.get(peer);
      if (m === undefined) out.set(peer, (m = new Map()));
      addTrunkDrops(m, t);
    }
    return out;
  }

  /** Up trunks (by peer node). */
  get upCount(): number {
    return this.byNode.size;
  }

  trunkTo(node: string): Trunk | undefined {
    return this.byNode.get(node);
  }

  stats(): TrunkStats[] {
    const now = Date.now();
    return [...this.trunks].map((t) => ({
      peer: t.peer,
      address: t.conn.peer,
      role: t.role,
      state: t.state,
      segments: [...t.ports.values()].map((p) => p.segment.name),
      framesIn: t.framesIn,
      bytesIn: t.bytesIn,
      framesOut: t.output.framesOut,
      bytesOut: t.output.bytesOut,
      remote: [...t.ports.values()].reduce((n, p) => n + p.segment.remoteCount(p), 0),
      refused: t.refusedFrames,
      upSeconds: Math.round((now - t.openedAt) / 1000),
      gso: t.gso,
      uso: t.uso,
    }));
  }

  /**
   * The console's view (heartbeat `report.trunks`): each peer node seen, up or down since
   * when, its traffic and drops since this node started, and the endpoints announced to it
   * and learned from it now. Built on demand (a heartbeat), never on the data path.
   */
  report(): ReportTrunk[] {
    const out: ReportTrunk[] = [];
    const drops = this.droppedByPeer();
    const localCount = new Map<number, number>();
    const announcedTo = (t: Trunk): number => {
      let n = 0;
      for (const [id, port] of t.ports) {
        let c = localCount.get(id);
        if (c === undefined) localCount.set(id, (c = port.segment.localEndpoints().length));
        n += c;
      }
      return n;
    };
    for (const [peer, t] of this.byNode) {
      if (out.length >= MAX_REPORT_TRUNKS) break;
      const p = this.past.get(peer);
      out.push({
        peer,
        state: 'up',
        since: t.openedAt,
        address: t.conn.peer.slice(0, 80),
        role: t.role,
        segments: [...t.ports.values()].map((port) => port.segment.name),
        framesIn: (p?.framesIn ?? 0) + t.framesIn,
        bytesIn: (p?.bytesIn ?? 0) + t.bytesIn,
        framesOut: (p?.framesOut ?? 0) + t.output.framesOut,
        bytesOut: (p?.bytesOut ?? 0) + t.output.bytesOut,
        drops: Object.fromEntries(drops.get(peer) ?? []),
        announced: announcedTo(t),
        learned: [...t.ports.values()].reduce((n, port) => n + port.segment.remoteCount(port), 0),
      });
    }
    for (const [peer, p] of this.past) {
      if (out.length >= MAX_REPORT_TRUNKS) break;
      if (this.byNode.has(peer)) continue;
      // Its trunk coming back is worth telling at once, like its loss (onPeerBack).
      p.reported = true;
      out.push({ peer, state: 'down', since: p.downAt, segments: [], framesIn: p.framesIn, bytesIn: p.bytesIn, framesOut: p.framesOut, bytesOut: p.bytesOut, drops: Object.fromEntries(p.drops), announced: 0, learned: 0 });
    }
    return out;
  }

  /** Queue drops of the trunks (the node's el_switch_frames_dropped_total). */
  queueDrops(): { queue_full: number; slow_peer: number; device_drop: number } {
    const d = { ...this.pastDrops };
    for (const t of this.trunks) {
      d.queue_full += t.output.drops.queue_full;
      d.slow_peer += t.output.drops.slow_peer;
      d.device_drop += t.output.drops.device_drop;
    }
    return d;
  }

  private registerMetrics(registry: Registry): Counter<'peer' | 'result'> {
    const registers = [registry];
    const hub = this;
    const peers = (): Set<string> => new Set([...this.past.keys(), ...this.byNode.keys()]);
    new Gauge({
      name: 'el_trunk_up',
      help: 'Trunks to peer nodes: 1 connected, 0 not (a peer seen before).',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const p of peers()) this.set({ peer: p }, hub.byNode.has(p) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'el_trunk_certified',
      help: 'Up trunks: 1 when the peer showed a certificate of the cluster CA (switch.trunk.ca), 0 when it was admitted on the secret alone (no CA, or switch.trunk.requireCert false).',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [p, t] of hub.byNode) this.set({ peer: p }, hub.certified.has(t) ? 1 : 0);
      },
    });
    const traffic = (which: 'frames' | 'bytes') =>
      function (this: Counter<'peer' | 'direction'>) {
        this.reset();
        const sum = new Map<string, { in: number; out: number }>();
        for (const [p, v] of hub.past) sum.set(p, { in: which === 'frames' ? v.framesIn : v.bytesIn, out: which === 'frames' ? v.framesOut : v.bytesOut });
        for (const [p, t] of hub.byNode) {
          const s = sum.get(p) ?? { in: 0, out: 0 };
          s.in += which === 'frames' ? t.framesIn : t.bytesIn;
          s.out += which === 'frames' ? t.output.framesOut : t.output.bytesOut;
          sum.set(p, s);
        }
        for (const [p, s] of sum) {
          this.inc({ peer: p, direction: 'in' }, s.in);
          this.inc({ peer: p, direction: 'out' }, s.out);
        }
      };
    new Counter({ name: 'el_trunk_frames_total', help: 'Frame records over trunks (a TCP or UDP super-frame in one TRUNK_FRAME_GSO counts one), by peer node and direction (in, out).', labelNames: ['peer', 'direction'], registers, collect: traffic('frames') });
    new Counter({ name: 'el_trunk_bytes_total', help: 'Bytes of TRUNK_FRAME and TRUNK_FRAME_GSO payloads (segment id included) over trunks, by peer node and direction.', labelNames: ['peer', 'direction'], registers, collect: traffic('bytes') });
    new Counter({
      name: 'el_trunk_dropped_frames_total',
      help: 'Frames dropped on trunks, by peer node and reason: out (queue_full, slow_peer), refused at input (unknown_segment, too_long), or dropped by the segment (trunk_source, mac_frozen, split_horizon, policy_denied, hairpin, no_route, ...).',
      labelNames: ['peer', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [peer, m] of hub.droppedByPeer()) for (const [reason, n] of m) this.inc({ peer, reason }, n);
      },
    });
    new Gauge({
      name: 'el_trunk_remote_endpoints',
      help: 'Endpoints (L2 MACs, L3 routes) learned from peer nodes, by segment.',
      labelNames: ['segment'],
      registers,
      collect() {
        this.reset();
        for (const name of hub.ids.values()) this.set({ segment: name }, hub.opts.segment(name)?.remoteCount() ?? 0);
      },
    });
    new Counter({
      name: 'el_trunk_announcements_total',
      help: 'Endpoint announcements and withdrawals over trunks, by direction (in, out).',
      labelNames: ['direction'],
      registers,
      collect() {
        this.reset();
        this.inc({ direction: 'in' }, hub.announced.in);
        this.inc({ direction: 'out' }, hub.announced.out);
      },
    });
    new Gauge({
      name: 'el_trunk_frozen_macs',
      help: 'MACs frozen now for moving between nodes too often (a loop), by segment.',
      labelNames: ['segment'],
      registers,
      collect() {
        this.reset();
        for (const name of hub.ids.values()) this.set({ segment: name }, hub.opts.segment(name)?.frozenCount() ?? 0);
      },
    });
    new Counter({
      name: 'el_trunk_mac_freezes_total',
      help: 'MACs frozen for moving between nodes too often (RFC 7432 §15.1), by segment.',
      labelNames: ['segment'],
      registers,
      collect() {
        this.reset();
        for (const name of hub.ids.values()) {
          const seg = hub.opts.segment(name);
          if (seg?.mode === 'l2') this.inc({ segment: name }, seg?.freezeCount() ?? 0);
        }
      },
    });
    return new Counter({ name: 'el_trunk_connects_total', help: 'Trunk connections, by peer and result (ok, auth_failed, duplicate, self, refused, error).', labelNames: ['peer', 'result'], registers });
  }
}

/** "host:port", "[v6]:port". */
export function parsePeer(text: string): TrunkPeer {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new ElError('EL_ERR_CONFIG', `trunk peer "${text}" is not host:port`);
  return { hosts: [m[1]], port: Number(m[2]) };
}

function isIp(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(':');
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A peer verified by the cluster CA: the node names of its certificate, and its chain. */
interface Certified {
  names: string[];
  chain: X509Certificate[];
}

function certifiedPeer(socket: TLSSocket): Certified {
  return { names: certificateNodeNames(socket), chain: peerChain(socket) };
}

/** A peer's totals of trunks that are gone. */
interface PastTraffic {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  /** Drops by reason (a bounded set: DROP_REASONS and the two refusals). */
  drops: Map<string, number>;
  /** When its last trunk went down (ms since the epoch). */
  downAt: number;
  /** A report (a heartbeat's `trunks`) listed it down since: the brokers may hold that loss. */
  reported?: boolean;
}

/** Adds the drops of `t` by reason (non-zero only) into `into`. */
function addTrunkDrops(into: Map<string, number>, t: Trunk): void {
  const add = (reason: string, n: number): void => {
    if (n > 0) into.set(reason, (into.get(reason) ?? 0) + n);
  };
  add('queue_full', t.output.drops.queue_full);
  add('slow_peer', t.output.drops.slow_peer);
  add('unknown_segment', t.refused.unknown_segment);
  add('too_long', t.refused.too_long);
  for (const r of DROP_REASONS) add(r, t.inDrops[r]);
}
