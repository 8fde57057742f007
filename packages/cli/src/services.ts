/**
 * Composes the long-running parts of a process from the config: broker, switch node,
 * admin server. `elink up` runs all three; `elink broker` and `elink switch` one each.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { createBrokerApp, type BrokerApp, type LocalNode, KeyRing, MemoryUserDirectory, openStore, StoreUserDirectory, type BrokerStore, type NodeInfo, type StoreConfig, type UserRecord } from '@elink/broker';
import { BrokerDtcpAuthority, BrokerLink, nodeReport, segmentLoad, type DtcpAuthority, ConnectionGuard, EventSummary, FdBudget, gateTlsServer, ProxyGate, sessionTicketKeys, SwitchNode, type ConnectionLimits, type SwitchNodeOptions, type TrunkCredentials } from '@elink/switch';
import { fingerprint256 } from '@elink/pki';
import { ElError, generateTicketKeyPair, privateKeyFromPem, privateKeyToPem, publicKeyFromPem, resumeKey, type TrunkPeerEntry } from '@elink/protocol';
import { createAdminServer } from './admin-server.js';
import { readiness } from './readiness.js';
import { registerBuildInfo, SOFTWARE } from './version.js';
import { registerLogMetrics, stdoutLog } from './log-output.js';
import type { Config, LoadedConfig } from './config.js';

export interface Services {
  broker?: BrokerApp;
  switchNode?: SwitchNode;
  admin: FastifyInstance;
  registry: Registry;
  /** Where each listener ended up (port 0 in config = ephemeral). */
  endpoints: { broker?: { host: string; port: number }; switch?: { host: string; port: number }; admin: { host: string; port: number } };
  stop(reason: string): Promise<void>;
  /** Live changes (config reload, reload.ts). Users: the config file's, for the next login. */
  setUsers(users: Config['users']): void;
  /**
   * `elink up` only (the broker's users and the switch's sessions in one process): ends the
   * sessions of users that are gone or lost a segment. Returns how many; 0 elsewhere.
   */
  endSessions(gone: (user: string, segment: string) => boolean, reason: string): number;
  /** Segments new to the process: the broker and the switch node serve them from now on (throws EL_ERR_CONFIG before adding any). */
  addSegments(defs: Config['segments']): void;
  /** New live settings of known segments (LIVE_SEGMENT_SETTINGS, merged by the caller). */
  updateSegments(defs: Config['segments']): void;
  /** Certificate and key for new handshakes of the broker and the switch (throws when they do not match). */
  setTls(tls: { cert: Buffer; key: Buffer }): void;
  /** The CA a standalone switch trusts its brokers with (next heartbeat). */
  setBrokerCa(ca: Buffer): void;
  /** New trunk trust (built, so checked, by the caller): the cluster CA's files (undefined:
   * none) and whether peers must show a certificate of it; the next trunk handshakes use it. */
  setTrunkCredentials(c: TrunkCredentials | undefined, requireCert: boolean): void;
  /** What the process runs with now (the reloader compares new files against it). */
  readonly tls: { cert: Buffer; key: Buffer };
}

export interface ServiceSelection {
  broker: boolean;
  switch: boolean;
}

/** Shared TLS session ticket keys from the cluster secret, so a client resumes at any node. */
function ticketKeysOf(clusterSecret: string | undefined): { ticketKeys?: Buffer } {
  return clusterSecret ? { ticketKeys: sessionTicketKeys(clusterSecret) } : {};
}

/** The shared resume key from the same secret, so a returning device is admitted by its
 * resume proof at any node (@elink/protocol resume-proof.ts); without one, each node's own. */
function resumeKeyOf(clusterSecret: string | undefined): { resumeKey?: Buffer } {
  return clusterSecret ? { resumeKey: resumeKey(clusterSecret) } : {};
}

/** `beforeSwitchListens`: awaited before the switch node starts listening (the warm-up and
 * collection of startup-tuning.ts). */
export async function startServices(loaded: LoadedConfig, which: ServiceSelection, logger: Logger, beforeSwitchListens?: () => Promise<void>): Promise<Services> {
  const { config } = loaded;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry);
  registerLogMetrics(registry, stdoutLog());
  let tls: { cert: Buffer; key: Buffer } = { cert: readFileSync(loaded.path(config.tls.cert)), key: readFileSync(loaded.path(config.tls.key)) };
  // The local node's certificate fingerprint, handed to clients at login; a reload changes it.
  let fingerprint = fingerprint256(tls.cert.toString('utf8'));
  // One descriptor budget for the whole process: every listener sheds when it runs low.
  const lim = config.limits;
  const fds = new FdBudget({ reserve: lim.fdReserve, limit: lim.maxFds });
  const connectionLimits = connectionLimitsOf(config);
  const httpLimits = { handshakeTimeoutMs: lim.handshakeTimeout * 1000, headersTimeoutMs: lim.headersTimeout * 1000, requestTimeoutMs: lim.requestTimeout * 1000, idleTimeoutMs: lim.idleTimeout * 1000 };
  const guardFor = (listener: string, reserveShare = 0) => new ConnectionGuard({ listener, limits: connectionLimits, fds, logger: logger.child({ component: listener }), registry, logIntervalMs: lim.logInterval * 1000, reserveShare });
  logger.info({ fdLimit: fds.limit, fdReserve: fds.reserve }, 'file descriptor budget');

  let signingKey: KeyObject | undefined;
  let keyRing: KeyRing | undefined;
  let store: BrokerStore | undefined;
  if (which.broker) {
    // Generated on first start; with several brokers, give them all the same file (a Kubernetes Secret).
    const signingPath = loaded.path(config.broker.signingKey);
    if (!existsSync(signingPath)) writeFileSync(signingPath, privateKeyToPem(generateTicketKeyPair().privateKey), { mode: 0o600 });
    signingKey = privateKeyFromPem(readFileSync(signingPath, 'utf8'));
    keyRing = new KeyRing(signingKey, config.broker.publishKeys.map((p) => createPublicKey(readFileSync(loaded.path(p), 'utf8'))));
    const sc = config.broker.store;
    const snapshotFailures = new Counter({ name: 'el_broker_snapshot_failures_total', help: 'Timed memory-store snapshots that could not be written (retried with backoff)', registers: [registry] });
    store = await openStore((sc.type === 'memory' ? { type: 'memory', snapshot: loaded.path(sc.snapshot) } : sc) as StoreConfig, {
      registry,
      onSnapshotError: (err, retryInMs) => {
        snapshotFailures.inc();
        logger.error({ component: 'store', err: err.message, retryInMs }, 'store snapshot not written; leases stay in memory, retrying');
      },
    });
  }

  let switchNode: SwitchNode | undefined;
  let brokerLink: BrokerLink | undefined;
  // The CA a standalone switch trusts its brokers with (heartbeats, DTCP requests); a reload may change it.
  let brokerCa: Buffer | undefined = which.switch && config.switch.broker ? readFileSync(loaded.path(config.switch.broker.ca ?? config.tls.ca)) : undefined;
  let broker: BrokerApp | undefined;
  if (which.switch) {
    // In one process the switch trusts the broker's published keys directly; a standalone
    // switch reads them from files named in the config and/or from its brokers' heartbeat replies.
    const fileKeys: KeyObject[] = config.switch.ticketKeys.map((p) => publicKeyFromPem(readFileSync(loaded.path(p), 'utf8')));
    const link = !keyRing && config.switch.broker;
    if (!keyRing && !link && fileKeys.length === 0) throw new ElError('EL_ERR_CONFIG', 'a standalone switch needs switch.ticketKeys (broker public key files) or switch.broker (heartbeats bring the keys)');
    let keys: () => KeyObject[] = () => fileKeys;
    if (keyRing) {
      const ring = keyRing;
      keys = () => ring.publicKeys();
    } else if (link) {
      brokerLink = new BrokerLink({
        brokers: link.urls,
        clusterSecret: link.clusterSecret,
        ca: brokerCa,
        nodeId: config.node.id,
        hosts: (config.switch.advertise ?? '127.0.0.1').split(',').map((h) => h.trim()).filter(Boolean),
        // The node exists once the link first beats (after start, below).
        port: () => switchNode!.address().port,
        fingerprint,
        ...(config.switch.websocket.url ? { websocket: config.switch.websocket.url } : {}),
        capacity: config.switch.maxSessions,
        state: () => {
          const st = switchNode!.stats;
          return { sessions: st.sessions, segments: switchNode!.hostedSegments(), ...segmentLoad(st.segments), draining: switchNode!.draining };
        },
        // A known segment: its live settings follow the broker's (after the broker's reload).
        addSegment: (def) => void (switchNode!.addSegment(def) || switchNode!.updateSegment(def)),
        revoked: (list, heartbeat) => void switchNode!.applyRevocations(list, heartbeat),
        // The console's counters, sessions and tables ride on each heartbeat; its actions come back in the reply.
        report: () => nodeReport(switchNode!),
        commands: (list) => {
          for (const c of list) {
            if (c.type === 'kick') switchNode!.kick(c.session, c.reason);
            else void switchNode!.drain('drained by an administrator', { announce: () => brokerLink!.beat() });
          }
        },
        ...(config.switch.trunk
          ? {
              trunk: () => ({ hosts: splitHosts(config.switch.trunk!.advertise ?? config.switch.advertise ?? '127.0.0.1'), port: switchNode!.trunks!.address().port }),
              peers: (peers: TrunkPeerEntry[]) => switchNode!.trunks!.setPeers(peers.map((p) => ({ hosts: p.hosts, port: p.port, node: p.node }))),
            }
          : {}),
        keysFile: loaded.path(link.keysFile),
        intervalMs: link.interval * 1000,
        logger: logger.child({ component: 'broker-link' }),
        registry,
      });
      const l = brokerLink;
      keys = () => (fileKeys.length ? [...l.keys(), ...fileKeys] : l.keys());
    }
    let dtcp: SwitchNodeOptions['dtcp'];
    if (config.switch.dtcp) {
      const link = config.switch.broker;
      // The broker in this process checks digests directly; a standalone node asks its brokers.
      const authority: DtcpAuthority | undefined = which.broker
        ? {
            tunnel: (req) => {
              if (!broker) throw new ElError('EL_ERR_UNAVAILABLE', 'the broker is not up yet');
              return broker.dtcp.tunnel(req);
            },
          }
        : link && new BrokerDtcpAuthority({ brokers: () => link.urls, clusterSecret: link.clusterSecret, ca: () => brokerCa, logger: logger.child({ component: 'dtcp' }) });
      if (!authority) throw new ElError('EL_ERR_CONFIG', 'switch.dtcp needs a broker to check digests and lease addresses: run `elink up`, or set switch.broker');
      // The tunnels go into the node's own 6in4 plane (SwitchNode.sixInFourPlane()).
      dtcp = { ...dtcpSettings(loaded), authority };
    }
    switchNode = new SwitchNode({
      nodeId: config.node.id,
      software: SOFTWARE,
      listen: config.switch.listen,
      tls: { ...tls, ciphers: config.switch.ciphers, minVersion: config.switch.minVersion, ecdhCurve: config.switch.ecdhCurve, ...ticketKeysOf(config.switch.broker?.clusterSecret ?? config.broker.clusterSecret) },
      segments: config.segments,
      ticketKeys: keys,
      ...resumeKeyOf(config.switch.broker?.clusterSecret ?? config.broker.clusterSecret),
      logger: logger.child({ component: 'switch' }),
      registry,
      fds,
      trunk: switchTrunkSettings(loaded),
      dtcp,
      ...switchNodeSettings(loaded),
    });
    await beforeSwitchListens?.();
    await switchNode.start();
    // A trunk peer that may be gone is told to the brokers at once: they stop handing it out.
    if (brokerLink && switchNode.trunks) {
      const l = brokerLink;
      switchNode.trunks.onPeerLost((peer, reason) => {
        logger.info({ component: 'broker-link', peer, reason }, 'trunk peer may be gone: heartbeat sent early');
        l.beatSoon();
      });
      // Its trunk back up: the brokers withdraw the loss they hold (a flapping trunk), not an interval later.
      switchNode.trunks.onPeerBack((peer) => {
        logger.info({ component: 'broker-link', peer }, 'trunk peer back after a reported loss: heartbeat sent early');
        l.beatSoon();
      });
    }
    // Without a broker the node still starts: it serves what it knows and keeps trying.
    if (brokerLink) await brokerLink.start();
  }

  let configUsers: MemoryUserDirectory | undefined;
  let brokerGuard: ConnectionGuard | undefined;
  let adminServer: { listening: boolean } | undefined;
  // One meaning of /readyz on every port (readiness.ts): listeners accept, store answers, not draining.
  const sw = switchNode;
  const ready = readiness({
    listeners: () => [
      ...(which.broker ? [{ name: 'broker', listening: broker?.server.listening ?? false }] : []),
      ...(sw ? [{ name: 'switch', listening: sw.listening }] : []),
      ...(sw?.dtcp ? [{ name: 'dtcp', listening: sw.dtcp.listening }] : []),
      { name: 'admin', listening: adminServer?.listening ?? false },
    ],
    store,
    draining: sw && (() => sw.draining),
  });
  if (which.broker) {
    const local = switchNode;
    const nodes = (ctx?: { localAddress?: string }): NodeInfo[] =>
      local
        ? local.draining
          ? [] // a draining node is chosen for no login (503 EL_ERR_NO_NODE until it is gone)
          : [{ node: config.node.id, host: config.switch.advertise ?? unmapV4(ctx?.localAddress) ?? '127.0.0.1', port: local.address().port, fingerprint, ...(config.switch.websocket.url ? { websocket: config.switch.websocket.url } : {}) }]
        : config.broker.nodes;
    configUsers = new MemoryUserDirectory(userRecords(config.users));
    // `elink up`: the console and `elink status` see this node directly, without heartbeats.
    const localNode: LocalNode | undefined = local && {
      node: config.node.id,
      status: () => {
        const st = local.stats;
        return { node: config.node.id, hosts: splitHosts(config.switch.advertise ?? '127.0.0.1'), port: local.address().port, fingerprint, capacity: config.switch.maxSessions, sessions: st.established, segments: local.hostedSegments(), ...segmentLoad(st.segments), draining: local.draining };
      },
      report: () => nodeReport(local),
      kick: (id, reason) => local.kick(id, reason),
      drain: () => void local.drain('drained by an administrator'),
    };
    broker = await createBrokerApp({
      segments: config.segments,
      users: new StoreUserDirectory(store!, configUsers),
      store,
      keys: keyRing,
      nodes,
      ticketTtlSeconds: config.broker.ticketTtl,
      challengeTtlSeconds: config.broker.challengeTtl,
      healthySeconds: config.broker.nodeTimeout,
      leaseIdleSeconds: config.broker.leaseIdle,
      statics: config.broker.static,
      maxDevicesPerUser: config.broker.maxDevicesPerUser,
      rateLimits: {
        perUser: config.broker.rateLimit.perUser,
        perAddress: config.broker.rateLimit.perAddress,
        perUserTotal: config.broker.rateLimit.perUserTotal,
        challenges: config.broker.rateLimit.challenges,
        admin: config.broker.rateLimit.admin,
        windowSeconds: config.broker.rateLimit.window,
      },
      clusterSecret: config.broker.clusterSecret,
      adminToken: config.broker.adminToken,
      ...(localNode ? { localNode } : {}),
      console: {
        sessionIdleSeconds: config.broker.console.sessionIdle,
        sessionLifetimeSeconds: config.broker.console.sessionLifetime,
        maxSessions: config.broker.console.maxSessions,
        maxStreams: config.broker.console.maxStreams,
        auditEntries: config.broker.console.auditEntries,
      },
      deviceTicketTtlSeconds: config.broker.deviceTicketTtl,
      // The node in this process hears revocations at once (remote nodes: in their heartbeat reply).
      ...(switchNode ? { onRevoked: (list) => void sw!.applyRevocations(list) } : {}),
      logger: logger.child({ component: 'broker' }),
      registry,
      https: tls,
      httpLimits,
      ready,
    });
    const guard = guardFor('broker');
    brokerGuard = guard;
    // The gate takes over the server's connection listeners: it goes first, the guard's admission is prepended after it.
    if (config.broker.proxyProtocol.trusted.length > 0) {
      const brokerLog = logger.child({ component: 'broker' });
      const proxyLog = new EventSummary({ logger: brokerLog, message: 'connections refused for their PROXY protocol header', intervalMs: lim.logInterval * 1000, sample: lim.logSample });
      const gate = new ProxyGate({
        listener: 'broker',
        trusted: config.broker.proxyProtocol.trusted,
        timeoutMs: lim.handshakeTimeout * 1000,
        registry,
        onRefused: (reason, peer) => proxyLog.add(`proxy:${reason}`, { peer, reason }, 'PROXY protocol header refused'),
        onSource: (raw, address, port) => guard.readmit(raw, address, port),
      });
      gateTlsServer(broker.server as unknown as TlsServer, gate);
    }
    brokerGuard.attach(broker.server);
    await broker.listen({ host: config.broker.listen.host, port: config.broker.listen.port });
  }

  const admin = createAdminServer({ registry, logger, ready, httpLimits });
  adminServer = admin.server;
  // Liveness probes and scrapes must answer while the other listeners shed: a few admin connections may use the reserve.
  const adminGuard = guardFor('admin', ADMIN_RESERVE_SHARE);
  adminGuard.attach(admin.server);
  await admin.listen({ host: config.admin.host, port: config.admin.port });

  const addr = (app: FastifyInstance) => {
    const a = app.server.address();
    return typeof a === 'object' && a ? { host: a.address, port: a.port } : { host: '', port: 0 };
  };
  return {
    broker,
    switchNode,
    admin,
    registry,
    endpoints: { broker: broker && addr(broker), switch: switchNode?.address(), admin: addr(admin) },
    get tls() {
      return tls;
    },
    setUsers(users) {
      configUsers?.setUsers(userRecords(users));
    },
    endSessions(gone, reason) {
      return broker && switchNode ? switchNode.endSessions(gone, reason) : 0;
    },
    addSegments(defs) {
      broker?.addSegments(defs);
      for (const def of defs) switchNode?.addSegment(def);
    },
    updateSegments(defs) {
      broker?.updateSegments(defs);
      for (const def of defs) switchNode?.updateSegment(def);
    },
    setTls(next) {
      // Check the pair once before touching any listener, so both change or neither does.
      createSecureContext({ cert: next.cert, key: next.key });
      (broker?.server as TlsServer | undefined)?.setSecureContext({ cert: next.cert, key: next.key });
      switchNode?.setSecureContext(next);
      tls = next;
      fingerprint = fingerprint256(next.cert.toString('utf8'));
      brokerLink?.setTls({ fingerprint });
    },
    setBrokerCa(ca) {
      brokerCa = ca;
      brokerLink?.setTls({ ca });
    },
    setTrunkCredentials(c, requireCert) {
      switchNode?.trunks?.setCredentials(c, requireCert);
    },
    async stop(reason: string) {
      // Drain first: the heartbeat tells the brokers, then clients are redirected to other nodes.
      if (switchNode && config.switch.drainSeconds > 0) {
        const link = brokerLink;
        await switchNode.drain('drain', { timeoutMs: config.switch.drainSeconds * 1000, announce: link && (() => link.beat()) });
      }
      brokerLink?.stop();
      await broker?.close();
      await switchNode?.stop(reason);
      await store?.close();
      await admin.close();
      brokerGuard?.stop();
      adminGuard.stop();
    },
  };
}

/** SwitchNodeOptions set by the host rather than by a key of the config file. */
type HostProvided = 'nodeId' | 'software' | 'listen' | 'tls' | 'segments' | 'ticketKeys' | 'resumeKey' | 'logger' | 'registry' | 'fds' | 'trunk' | 'dtcp';
/** Every other SwitchNodeOptions field: a new one does not compile until a config key reaches it. */
export type SwitchNodeSettings = Required<Omit<SwitchNodeOptions, HostProvided>>;

/** The switch node's settings from the config file (README, configuration reference). */
export function switchNodeSettings(loaded: LoadedConfig): SwitchNodeSettings {
  const { switch: sw, limits: lim } = loaded.config;
  return {
    helloTimeoutMs: sw.helloTimeout * 1000,
    handshakeTimeoutMs: lim.handshakeTimeout * 1000,
    maxSessions: sw.maxSessions,
    writeTimeoutMs: sw.writeTimeout * 1000,
    closeGraceMs: sw.closeGrace * 1000,
    replayCacheSize: sw.replayCacheSize,
    queue: { ...sw.queue },
    l3: { ...sw.l3 },
    // The plane holds as many tunnels as the DTCP listener grants.
    sixInFour: { ...(sw.dtcp ? { maxTunnels: sw.dtcp.maxTunnels } : {}), queueFrames: sw.sixInFour.queueFrames, socket: { ttl: sw.sixInFour.ttl } },
    gso: sw.gso,
    connectionLimits: connectionLimitsOf(loaded.config),
    proxyProtocol: { trusted: [...sw.proxyProtocol.trusted] },
    websocket: { ...(sw.websocket.listen ? { listen: { host: sw.websocket.listen.host ?? sw.listen.host, port: sw.websocket.listen.port } } : {}), trusted: [...sw.websocket.trusted] },
    logIntervalMs: lim.logInterval * 1000,
    logSample: lim.logSample,
    replayJournal: loaded.path(sw.replayJournal),
  };
}

/** The DTCP listener's settings from `switch.dtcp` (present). */
export function dtcpSettings(loaded: LoadedConfig): Omit<NonNullable<SwitchNodeOptions['dtcp']>, 'authority' | 'plane'> {
  const d = loaded.config.switch.dtcp!;
  return { listen: { ...d.listen }, segment: d.segment, types: [...d.types], idleTimeoutMs: d.idleTimeout * 1000, tunnelIdleTimeoutMs: d.tunnelIdleTimeout * 1000, maxTunnels: d.maxTunnels };
}

/** The node's trunks from `switch.trunk` (absent: none). Optional, so not in SwitchNodeSettings. */
export function switchTrunkSettings(loaded: LoadedConfig): SwitchNodeOptions['trunk'] {
  const sw = loaded.config.switch;
  return (
    sw.trunk && {
      port: sw.trunk.port,
      host: sw.trunk.host ?? sw.listen.host,
      secret: sw.trunk.secret ?? sw.broker?.clusterSecret ?? '',
      requireCert: sw.trunk.requireCert,
      ...(sw.trunk.ca !== undefined ? { clusterCa: { ca: readFileSync(loaded.path(sw.trunk.ca)), cert: readFileSync(loaded.path(sw.trunk.cert!)), key: readFileSync(loaded.path(sw.trunk.key!)) } } : {}),
      peers: [...sw.trunk.peers],
      maxPeers: sw.trunk.maxPeers,
      maxRemotePerSegment: sw.trunk.maxRemotePerSegment,
      announceRate: sw.trunk.announceRate,
      announceBurst: sw.trunk.announceBurst,
      macMoves: { maxMoves: sw.trunk.macMoves.maxMoves, windowSeconds: sw.trunk.macMoves.window, freezeSeconds: sw.trunk.macMoves.freeze },
      keepaliveMs: Math.round(sw.trunk.keepalive * 1000),
      keepaliveMissed: sw.trunk.keepaliveMissed,
    }
  );
}

function connectionLimitsOf(config: Config): ConnectionLimits {
  const lim = config.limits;
  return { pending: lim.pending, pendingPerSource: lim.pendingPerSource, acceptRate: lim.acceptRate, acceptRatePerSource: lim.acceptRatePerSource };
}

function userRecords(users: Config['users']): UserRecord[] {
  return users.map((u) => ({ name: u.name, passwordHash: u.password, segments: u.segments, ...(u.macs ? { macs: u.macs } : {}), ...(u.lan ? { lan: u.lan } : {}), ...(u.digestSecret ? { digestSecret: u.digestSecret } : {}), ...(u.admin ? { admin: true } : {}) }));
}

/** Admin connections that may use the descriptor reserve (limits.fdReserve must leave room for them). */
const ADMIN_RESERVE_SHARE = 4;

function splitHosts(list: string): string[] {
  return list.split(',').map((h) => h.trim()).filter(Boolean);
}

function unmapV4(a: string | undefined): string | undefined {
  return a?.startsWith('::ffff:') ? a.slice(7) : a;
}
