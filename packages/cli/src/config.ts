/**
 * The configuration file (YAML), validated with zod. Every path in it is relative to
 * the state directory, which is the directory of the config file. Precedence:
 * built-in defaults < file < environment (ELINK_*) < command-line flags.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { cidrSchema, DTCP_TYPES, ElError, segmentSchema, wssUrlSchema } from '@elink/protocol';
import {
  DEFAULT_CHALLENGE_TTL_SECONDS,
  DEFAULT_CONSOLE,
  DEFAULT_HEALTHY_SECONDS,
  DEFAULT_HTTP_LIMITS,
  DEFAULT_LEASE_IDLE_SECONDS,
  DEFAULT_MAX_DEVICES_PER_USER,
  DEFAULT_RATE_LIMITS,
  DEFAULT_TICKET_TTL_SECONDS,
  DEFAULT_DEVICE_TICKET_TTL_SECONDS,
} from '@elink/broker';
import { findPoolOverlaps } from './pool-overlap.js';
import { describeIssues } from './config-issues.js';
import { DEFAULT_LOG_BUFFER } from './log-output.js';
import {
  DEFAULT_BROKER_INTERVAL_MS,
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_DTCP,
  DEFAULT_FD_RESERVE,
  DEFAULT_GSO,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_BYTES,
  DEFAULT_ICMP_BURST,
  DEFAULT_ICMP_RATE,
  DEFAULT_SIX_IN_FOUR_QUEUE_FRAMES,
  DEFAULT_SIX_IN_FOUR_TTL,
  DEFAULT_L3_MAX_ROUTES,
  DEFAULT_LOG_INTERVAL_MS,
  DEFAULT_LOG_SAMPLE,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_FRAMES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_REPLAY_CACHE_SIZE,
  DEFAULT_TRUNK,
  DEFAULT_TRUNK_PORT,
  DEFAULT_WRITE_TIMEOUT_MS,
} from '@elink/switch';

// Every object is strict: a misspelt or misplaced key is refused (config-issues.ts names
// the nearest known one) instead of silently leaving a setting at its default. Defaults
// come from the packages that enforce them; `.prefault({})` fills a missing section
// from its fields' defaults, so none is written twice.
const port = z.number().int().min(0).max(65535);
const listen = (p: number) => z.strictObject({ host: z.string().default('0.0.0.0'), port: port.default(p) }).prefault({});

export const userSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'letters, digits and . _ @ -, at most 128'),
  /** scrypt hash made by `elink user add`; never a clear-text password. */
  password: z.string().startsWith('$scrypt$', 'must be a hash from `elink user add`'),
  segments: z.array(z.string()).min(1),
  /** Source MACs this user's sessions may use: set it for a bridge with a LAN behind it. */
  macs: z.number().int().min(1).max(65536).optional(),
  /** LAN ranges this user's bridge sessions may claim in ARP and ND (segment inspection);
   * default: the segment's bridgeRanges. */
  lan: z.array(cidrSchema).max(64).optional(),
  /** Clear secret for legacy challenge–response logins (stored as given: enable only where needed). */
  digestSecret: z.string().min(8).optional(),
  /** May sign in to the web console with its password (docs/console.md). */
  admin: z.boolean().optional(),
});

const hostPort = z.strictObject({ host: z.string().min(1), port });
/** Where the broker keeps shared state (docs/broker.md). */
export const storeSchema = z.union([
  z.strictObject({ type: z.literal('memory'), snapshot: z.string().default('store.json') }),
  z.strictObject({ type: z.literal('redis'), url: z.string().url(), password: z.string().optional(), prefix: z.string().optional() }),
  z.strictObject({ type: z.literal('redis'), sentinels: z.array(hostPort).min(1), name: z.string().min(1), password: z.string().optional(), prefix: z.string().optional() }),
  z.strictObject({ type: z.literal('redis'), cluster: z.array(hostPort).min(1), password: z.string().optional(), prefix: z.string().optional() }),
]);

const seconds = (ms: number) => ms / 1000;

/**
 * What strangers may hold on every listener of the process (switch TLS, broker HTTPS,
 * admin HTTP) before they authenticate, and when the process stops accepting to keep
 * descriptors for the connections it has (docs/operations.md, "Limits before login").
 */
export const limitsSchema = z.strictObject({
  /** Keep this many descriptors free: new connections are shed below it. */
  fdReserve: z.number().int().min(8).default(DEFAULT_FD_RESERVE),
  /** The descriptor limit; unset = the process's soft RLIMIT_NOFILE (/proc/self/limits). */
  maxFds: z.number().int().min(64).optional(),
  /** Unauthenticated connections per listener (switch: before welcome; HTTP: all open ones). */
  pending: z.number().int().min(1).default(DEFAULT_CONNECTION_LIMITS.pending),
  pendingPerSource: z.number().int().min(1).default(DEFAULT_CONNECTION_LIMITS.pendingPerSource),
  /** New connections per second per listener, and from one source address (IPv6: a /64). */
  acceptRate: z.number().min(1).default(DEFAULT_CONNECTION_LIMITS.acceptRate),
  acceptRatePerSource: z.number().min(1).default(DEFAULT_CONNECTION_LIMITS.acceptRatePerSource),
  /** Seconds: TLS handshake (switch and broker), HTTP headers, whole HTTP request, idle connection. */
  handshakeTimeout: z.number().min(0.1).max(120).default(seconds(DEFAULT_HANDSHAKE_TIMEOUT_MS)),
  headersTimeout: z.number().min(0.1).max(300).default(seconds(DEFAULT_HTTP_LIMITS.headersTimeoutMs)),
  requestTimeout: z.number().min(0.1).max(300).default(seconds(DEFAULT_HTTP_LIMITS.requestTimeoutMs)),
  idleTimeout: z.number().min(0.1).max(300).default(seconds(DEFAULT_HTTP_LIMITS.idleTimeoutMs)),
  /** Pre-auth events: this many logged one by one per interval (s), the rest as one summary line. */
  logInterval: z.number().min(1).max(3600).default(seconds(DEFAULT_LOG_INTERVAL_MS)),
  logSample: z.number().int().min(0).max(1000).default(DEFAULT_LOG_SAMPLE),
});

/** Load balancer source ranges (CIDR) allowed, and required, to send a PROXY protocol header. */
function proxyProtocol() {
  return z
    .strictObject({
      trusted: z.array(cidrSchema).default([]),
    })
    .prefault({});
}

/** Trunks to the other switch nodes of the same segments (docs/cluster.md "Trunks"); absent: none. */
const trunkSchema = z.strictObject({
  /** TLS port peers dial (ALPN el-trunk/1). */
  port: port.default(DEFAULT_TRUNK_PORT),
  /** Bind address; unset: switch.listen.host. */
  host: z.string().optional(),
  /** Hosts peers dial, comma-separated (sent to brokers in heartbeats); unset: switch.advertise. */
  advertise: z.string().optional(),
  /** Shared by every node of the cluster (at least 16 characters); unset: switch.broker.clusterSecret. */
  secret: z.string().min(16).optional(),
  /** Static peers ("host:port") for clusters without a broker; with one, peers also come from heartbeats. */
  peers: z.array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'host:port')).max(DEFAULT_TRUNK.maxPeers * 16).default([]),
  /** Peer nodes at most. */
  maxPeers: z.number().int().min(1).max(1024).default(DEFAULT_TRUNK.maxPeers),
  /** Endpoints (MACs, routes) one peer may install per segment. */
  maxRemotePerSegment: z.number().int().min(16).max(16_000_000).default(DEFAULT_TRUNK.maxRemotePerSegment),
  /** Announcements per second per trunk, and the burst (the rest waits). */
  announceRate: z.number().int().min(10).max(10_000_000).default(DEFAULT_TRUNK.announceRate),
  announceBurst: z.number().int().min(10).max(10_000_000).default(DEFAULT_TRUNK.announceBurst),
  /** A cluster CA (PEM file) for trunks: both ends show a certificate of it naming their node id; with it, `secret` is optional. */
  ca: z.string().optional(),
  /** This node's trunk certificate and key (PEM files, issued by `ca`, DNS subjectAltName = node.id). */
  cert: z.string().optional(),
  key: z.string().optional(),
  /** With `ca`: a peer must show a certificate of it. false while a cluster moves onto a CA or off it: a peer without one is admitted on the secret alone. */
  requireCert: z.boolean().default(true),
  /** Seconds between trunk pings, and how many intervals without a record declare the peer down. */
  keepalive: z.number().min(0.1).max(3600).default(seconds(DEFAULT_TRUNK.keepaliveMs)),
  keepaliveMissed: z.number().int().min(1).max(100).default(DEFAULT_TRUNK.keepaliveMissed),
  /** Loop freezing: a MAC moving between nodes more than maxMoves times within window seconds is frozen for freeze seconds. */
  macMoves: z
    .strictObject({
      maxMoves: z.number().int().min(1).max(1000).default(DEFAULT_TRUNK.macMoves.maxMoves),
      window: z.number().min(1).max(86_400).default(DEFAULT_TRUNK.macMoves.windowSeconds),
      freeze: z.number().min(1).max(86_400).default(DEFAULT_TRUNK.macMoves.freezeSeconds),
    })
    .prefault({}),
});

/** A DTCP tunnel server on this node (docs/dtcp.md); absent: none. */
const dtcpSchema = z.strictObject({
  /** TCP listener; DTCP is IPv4 (the client's address is the tunnel's outer destination). */
  listen: z.strictObject({ host: z.string().default(DEFAULT_DTCP.listen.host), port: port.default(DEFAULT_DTCP.listen.port) }).prefault({}),
  /** The L3 segment whose pools the tunnels draw from (its users are the DTCP users). */
  segment: z.string().min(1),
  /** Tunnel types granted (`network` also answers `tunnelroute`). */
  types: z.array(z.enum(DTCP_TYPES)).min(1).max(DTCP_TYPES.length).default([...DEFAULT_DTCP.types]),
  /** Seconds without a line before the tunnel is up, and once it is (clients ping every 60 s). */
  idleTimeout: z.number().min(1).max(3600).default(seconds(DEFAULT_DTCP.idleTimeoutMs)),
  tunnelIdleTimeout: z.number().min(1).max(86_400).default(seconds(DEFAULT_DTCP.tunnelIdleTimeoutMs)),
  /** Tunnels on this node at most. */
  maxTunnels: z.number().int().min(1).max(1_000_000).default(DEFAULT_DTCP.maxTunnels),
});

export const configSchema = z
  .strictObject({
    node: z.strictObject({ id: z.string().min(1).max(64).default(hostname()) }).prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Bytes of log lines that may wait for a slow reader of stdout; beyond, lines are dropped and counted (log-output.ts). */
        buffer: z.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(DEFAULT_LOG_BUFFER),
      })
      .prefault({}),
    tls: z.strictObject({ ca: z.string().default('ca.pem'), cert: z.string().default('server.pem'), key: z.string().default('server.key') }).prefault({}),
    broker: z
      .strictObject({
        listen: listen(8443),
        ticketTtl: z.number().int().min(5).max(3600).default(DEFAULT_TICKET_TTL_SECONDS),
        /** Lifetime of tickets bound to a device key (reusable within it, at any node). */
        deviceTicketTtl: z.number().int().min(5).max(86400).default(DEFAULT_DEVICE_TICKET_TTL_SECONDS),
        signingKey: z.string().default('ticket-signing.key'),
        /** Switch nodes for a standalone broker (`elink broker`); `elink up` uses its own. */
        nodes: z
          .array(z.strictObject({ node: z.string(), host: z.string(), port, fingerprint: z.string().optional(), websocket: wssUrlSchema.optional(), segments: z.array(z.string()).optional() }))
          .default([]),
        store: storeSchema.default({ type: 'memory', snapshot: 'store.json' }),
        /** Extra public (or private) key files published to nodes during a key rotation. */
        publishKeys: z.array(z.string()).default([]),
        /** Shared with switch nodes: authenticates their heartbeats. */
        clusterSecret: z.string().min(16).optional(),
        /** PROXY protocol v1/v2 on the HTTPS port from these load balancer ranges: required from them, refused from others. Empty: off. */
        proxyProtocol: proxyProtocol(),
        /** Bearer token for the admin API (/v1/admin); unset = admin API off. */
        adminToken: z.string().min(16).optional(),
        /** Seconds without a login after which a lease may go to another device. */
        leaseIdle: z.number().int().min(60).default(DEFAULT_LEASE_IDLE_SECONDS),
        /** Fixed addresses: {segment, user, device?, ipv4?, ipv6?}. */
        static: z.array(z.strictObject({ segment: z.string(), user: z.string(), device: z.string().optional(), ipv4: z.string().optional(), ipv6: z.string().optional() })).default([]),
        /** Seconds a challenge (challenge–response login, GET /v1/challenge) can be answered. */
        challengeTtl: z.number().int().min(5).max(600).default(DEFAULT_CHALLENGE_TTL_SECONDS),
        /** Seconds since a node's last heartbeat after which logins no longer choose it (below the registry's 600 s retention). */
        nodeTimeout: z.number().int().min(3).max(300).default(DEFAULT_HEALTHY_SECONDS),
        /** Devices per user and segment holding an address lease at once. */
        maxDevicesPerUser: z.number().int().min(1).max(65_536).default(DEFAULT_MAX_DEVICES_PER_USER),
        /** The web console (docs/console.md): sign-in sessions, event streams, audit log. */
        console: z
          .strictObject({
            sessionIdle: z.number().int().min(60).max(86_400).default(DEFAULT_CONSOLE.sessionIdleSeconds),
            sessionLifetime: z.number().int().min(300).max(604_800).default(DEFAULT_CONSOLE.sessionLifetimeSeconds),
            maxSessions: z.number().int().min(1).max(10_000).default(DEFAULT_CONSOLE.maxSessions),
            maxStreams: z.number().int().min(1).max(1000).default(DEFAULT_CONSOLE.maxStreams),
            auditEntries: z.number().int().min(10).max(100_000).default(DEFAULT_CONSOLE.auditEntries),
          })
          .prefault({}),
        /** Failed attempts per window (s): per user from one source, per source, per user from all sources; challenges and admin tokens per source. */
        rateLimit: z
          .strictObject({
            perUser: z.number().int().min(1).default(DEFAULT_RATE_LIMITS.perUser),
            perAddress: z.number().int().min(1).default(DEFAULT_RATE_LIMITS.perAddress),
            perUserTotal: z.number().int().min(1).default(DEFAULT_RATE_LIMITS.perUserTotal),
            challenges: z.number().int().min(1).default(DEFAULT_RATE_LIMITS.challenges),
            admin: z.number().int().min(1).default(DEFAULT_RATE_LIMITS.admin),
            window: z.number().int().min(1).default(DEFAULT_RATE_LIMITS.windowSeconds),
          })
          .prefault({}),
      })
      .prefault({}),
    switch: z
      .strictObject({
        listen: listen(4443),
        /** The address clients are told to connect to. Unset: the address they reached the broker at. */
        advertise: z.string().optional(),
        ciphers: z.string().optional(),
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
        ecdhCurve: z.string().optional(),
        /** Seconds a new connection has to send its hello (after TLS). */
        helloTimeout: z.number().min(1).max(60).default(seconds(DEFAULT_HELLO_TIMEOUT_MS)),
        maxSessions: z.number().int().min(1).max(1_000_000).default(DEFAULT_MAX_SESSIONS),
        /** Accept TCP super-frames (FRAME_GSO) from clients with offload; false: every client sends MTU-sized frames. */
        gso: z.boolean().default(DEFAULT_GSO),
        /** On SIGTERM: redirect sessions to other nodes and wait up to this long before stopping (0 = no drain). */
        drainSeconds: z.number().min(0).max(300).default(seconds(DEFAULT_DRAIN_TIMEOUT_MS)),
        /** Seconds a session may keep more than queue.highWaterBytes unread before it is ended (EL_ERR_SLOW_PEER). */
        writeTimeout: z.number().min(0.1).max(300).default(seconds(DEFAULT_WRITE_TIMEOUT_MS)),
        /** Seconds between sending a session its last message (error, bye) and dropping the connection. */
        closeGrace: z.number().min(0.05).max(30).default(seconds(DEFAULT_CLOSE_GRACE_MS)),
        /** Ticket ids held until they expire (single use); when full, new sessions are refused (EL_ERR_UNAVAILABLE). */
        replayCacheSize: z.number().int().min(1000).max(10_000_000).default(DEFAULT_REPLAY_CACHE_SIZE),
        /** Per-session output queue: records and bytes queued per tick (beyond: queue_full drops), and the unread backlog above which a session gets nothing more (slow_peer drops). */
        queue: z
          .strictObject({
            maxFrames: z.number().int().min(64).max(1_000_000).default(DEFAULT_MAX_FRAMES),
            maxBytes: z.number().int().min(65_536).max(256 * 1024 * 1024).default(DEFAULT_MAX_BYTES),
            highWaterBytes: z.number().int().min(65_536).max(1024 * 1024 * 1024).default(DEFAULT_HIGH_WATER_BYTES),
          })
          .prefault({}),
        /** L3 routing on this node: routes per address family (all L3 segments), ICMP errors per second and burst. */
        l3: z
          .strictObject({
            maxRoutes: z.number().int().min(16).max(16_000_000).default(DEFAULT_L3_MAX_ROUTES),
            icmpRate: z.number().int().min(1).max(1_000_000).default(DEFAULT_ICMP_RATE),
            icmpBurst: z.number().int().min(1).max(1_000_000).default(DEFAULT_ICMP_BURST),
          })
          .prefault({}),
        /** The 6in4 data plane of DTCP tunnels (one raw protocol-41 socket, one port per tunnel): packets queued per tunnel per tick, outer TTL. */
        sixInFour: z
          .strictObject({
            queueFrames: z.number().int().min(16).max(65_536).default(DEFAULT_SIX_IN_FOUR_QUEUE_FRAMES),
            ttl: z.number().int().min(1).max(255).default(DEFAULT_SIX_IN_FOUR_TTL),
          })
          .prefault({}),
        /** PROXY protocol v1/v2 on the client port from these load balancer ranges: required from them, refused from others. Empty: off. */
        proxyProtocol: proxyProtocol(),
        /** EL over WebSocket behind an L7 ingress: the public URL clients are given, a plain-HTTP listener for an ingress that terminates TLS, and the ingresses whose X-Forwarded-For is believed. */
        websocket: z
          .strictObject({
            url: wssUrlSchema.optional(),
            listen: z.strictObject({ host: z.string().optional(), port }).optional(),
            trusted: z.array(cidrSchema).default([]),
          })
          .prefault({}),
        /** Broker public keys (PEM files) for a standalone switch (`elink switch`). */
        ticketKeys: z.array(z.string()).default([]),
        /** Used ticket ids, appended before each welcome and read at start: a ticket stays single-use across restarts. */
        replayJournal: z.string().default('replay.journal'),
        /** Heartbeat to these brokers; the replies bring ticket keys and segment definitions. */
        broker: z
          .strictObject({
            urls: z.array(z.string().url()).min(1),
            clusterSecret: z.string().min(16),
            ca: z.string().optional(),
            interval: z.number().min(1).max(60).default(seconds(DEFAULT_BROKER_INTERVAL_MS)),
            /** Where the last keys the brokers sent are kept, so a restart during a broker outage still admits sessions. */
            keysFile: z.string().default('broker-keys.json'),
          })
          .optional(),
        trunk: trunkSchema.optional(),
        dtcp: dtcpSchema.optional(),
      })
      .prefault({}),
    admin: listen(9100),
    limits: limitsSchema.prefault({}),
    segments: z.array(segmentSchema).default([]),
    users: z.array(userSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    // A switch that heartbeats to brokers gets its segments from them.
    if (cfg.segments.length === 0 && !cfg.switch.broker) ctx.addIssue({ code: 'custom', path: ['segments'], message: 'at least one segment' });
    const trunk = cfg.switch.trunk;
    if (trunk && !trunk.secret && !trunk.ca && !cfg.switch.broker) ctx.addIssue({ code: 'custom', path: ['switch', 'trunk', 'secret'], message: 'trunks need a secret or a cluster CA: set switch.trunk.secret (or switch.broker.clusterSecret), or switch.trunk.ca with .cert and .key' });
    if (trunk?.ca !== undefined && (trunk.cert === undefined || trunk.key === undefined)) ctx.addIssue({ code: 'custom', path: ['switch', 'trunk', 'ca'], message: 'a cluster CA needs this node\'s trunk certificate and key: set switch.trunk.cert and switch.trunk.key' });
    if (trunk && !trunk.requireCert && !trunk.secret && !cfg.switch.broker?.clusterSecret) ctx.addIssue({ code: 'custom', path: ['switch', 'trunk', 'requireCert'], message: 'requireCert: false admits peers without a certificate of the cluster CA on the secret alone: set switch.trunk.secret (or switch.broker.clusterSecret)' });
    if (trunk && trunk.ca === undefined && (trunk.cert !== undefined || trunk.key !== undefined)) ctx.addIssue({ code: 'custom', path: ['switch', 'trunk', 'cert'], message: 'switch.trunk.cert and .key are for a cluster CA: set switch.trunk.ca too' });
    const names = new Set(cfg.segments.map((s) => s.name));
    if (names.size !== cfg.segments.length) ctx.addIssue({ code: 'custom', path: ['segments'], message: 'segment names must be unique' });
    cfg.users.forEach((u, i) => {
      for (const s of u.segments) if (!names.has(s)) ctx.addIssue({ code: 'custom', path: ['users', i, 'segments'], message: `unknown segment "${s}"` });
    });
    const dtcp = cfg.switch.dtcp;
    if (dtcp) {
      const seg = cfg.segments.find((s) => s.name === dtcp.segment);
      // A switch heartbeating to brokers may learn the segment from them.
      if (!seg && !cfg.switch.broker) ctx.addIssue({ code: 'custom', path: ['switch', 'dtcp', 'segment'], message: `unknown segment "${dtcp.segment}"` });
      if (seg && seg.mode !== 'l3') ctx.addIssue({ code: 'custom', path: ['switch', 'dtcp', 'segment'], message: `segment "${dtcp.segment}" is not an L3 segment: DTCP tunnels carry IPv6 into an L3 segment` });
    }
    for (const { a, b } of findPoolOverlaps(cfg.segments)) {
      const i = cfg.segments.findIndex((s) => s.name === b.segment);
      ctx.addIssue({ code: 'custom', path: ['segments', i], message: `L3 segments "${a.segment}" (${a.what} ${a.range}) and "${b.segment}" (${b.what} ${b.range}) overlap: L3 segments share one routing table, give each its own range` });
    }
  });

export type Config = z.infer<typeof configSchema>;

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file. */
  file: string;
  /** The state directory: where relative paths in the file point. */
  stateDir: string;
  path(p: string): string;
}

/** Overrides from the environment and flags, applied over the file. */
export interface Overrides {
  logLevel?: string;
  brokerPort?: number;
  switchPort?: number;
  adminPort?: number;
  listenHost?: string;
  advertise?: string;
  nodeId?: string;
  clusterSecret?: string;
  adminToken?: string;
  /** Password of the broker's Redis store (broker.store.password), from a Secret. */
  redisPassword?: string;
  /** Hosts trunk peers dial (switch.trunk.advertise): per pod on Kubernetes, where the file is shared. */
  trunkAdvertise?: string;
  /** Where each value came from ("environment variable ELINK_LOG_LEVEL", "--log-level"), for error messages. */
  sources?: Partial<Record<OverrideKey, string>>;
}

export type OverrideKey = Exclude<keyof Overrides, 'sources'>;

/** The ELINK_* variable of each override; the secret ones also have a `*_FILE` variant. */
export const ENV_VARS = {
  logLevel: 'ELINK_LOG_LEVEL',
  brokerPort: 'ELINK_BROKER_PORT',
  switchPort: 'ELINK_SWITCH_PORT',
  adminPort: 'ELINK_ADMIN_PORT',
  listenHost: 'ELINK_LISTEN_HOST',
  advertise: 'ELINK_ADVERTISE',
  nodeId: 'ELINK_NODE_ID',
  clusterSecret: 'ELINK_CLUSTER_SECRET',
  adminToken: 'ELINK_ADMIN_TOKEN',
  redisPassword: 'ELINK_REDIS_PASSWORD',
  trunkAdvertise: 'ELINK_TRUNK_ADVERTISE',
} as const satisfies Record<OverrideKey, string>;

const SECRET_KEYS = ['clusterSecret', 'adminToken', 'redisPassword'] as const;
const PORT_KEYS = ['brokerPort', 'switchPort', 'adminPort'] as const;

/** A secret from NAME_FILE (a mounted Secret): the file's text without one trailing newline. */
function secretFromFile(name: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ElError('EL_ERR_CONFIG', `cannot read the file named by the environment variable ${name}_FILE (${file}): ${(e as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new ElError('EL_ERR_CONFIG', `the file named by the environment variable ${name}_FILE (${file}) is empty`);
  return value;
}

/**
 * ELINK_* variables as overrides. A bad value is refused here, naming the variable, so
 * it is never blamed on the file; `NAME_FILE` reads a secret from a file instead.
 */
export function overridesFromEnv(env: NodeJS.ProcessEnv = process.env): Overrides {
  const out: Overrides = { sources: {} };
  const set = <K extends OverrideKey>(key: K, value: Overrides[K], source: string) => {
    out[key] = value;
    out.sources![key] = source;
  };
  for (const key of Object.keys(ENV_VARS) as OverrideKey[]) {
    const name = ENV_VARS[key];
    const value = env[name] || undefined;
    const file = (SECRET_KEYS as readonly string[]).includes(key) ? env[`${name}_FILE`] || undefined : undefined;
    if (value !== undefined && file !== undefined) throw new ElError('EL_ERR_CONFIG', `both ${name} and ${name}_FILE are set in the environment: keep one`);
    if (file !== undefined) set(key, secretFromFile(name, file), `environment variable ${name}_FILE`);
    else if (value === undefined) continue;
    else if ((PORT_KEYS as readonly string[]).includes(key)) {
      const n = /^\d{1,5}$/.test(value.trim()) ? Number(value) : NaN;
      if (!(n >= 0 && n <= 65535)) throw new ElError('EL_ERR_CONFIG', `the environment variable ${name} must be a port number 0-65535, got ${JSON.stringify(value)}`);
      set(key, n, `environment variable ${name}`);
    } else set(key, value, `environment variable ${name}`);
  }
  return out;
}

/** The config paths each override sets (the same for every source). */
const OVERRIDE_PATHS: Record<OverrideKey, string[]> = {
  logLevel: ['log.level'],
  nodeId: ['node.id'],
  brokerPort: ['broker.listen.port'],
  switchPort: ['switch.listen.port'],
  adminPort: ['admin.port'],
  listenHost: ['broker.listen.host', 'switch.listen.host', 'admin.host'],
  advertise: ['switch.advertise'],
  clusterSecret: ['broker.clusterSecret', 'switch.broker.clusterSecret'],
  adminToken: ['broker.adminToken'],
  redisPassword: ['broker.store.password'],
  trunkAdvertise: ['switch.trunk.advertise'],
};

/** Which source set each config path last (later overrides win, as in applyOverrides). */
function overrideSources(list: Overrides[]): Map<string, string> {
  const by = new Map<string, string>();
  for (const o of list)
    for (const key of Object.keys(OVERRIDE_PATHS) as OverrideKey[])
      if (o[key] !== undefined) for (const p of OVERRIDE_PATHS[key]) by.set(p, o.sources?.[key] ?? 'an override');
  return by;
}

/** Parses and validates config text; `where` names the file in messages. */
export function parseConfig(text: string, where: string, overrides: Overrides[] = []): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    throw new ElError('EL_ERR_CONFIG', `${where} is not valid YAML: ${(e as Error).message}`);
  }
  const merged = applyOverrides(raw, overrides);
  const result = configSchema.safeParse(merged);
  if (result.success) return result.data;
  const sources = overrideSources(overrides);
  let fromFile = false;
  const lines = describeIssues(configSchema, merged, result.error.issues).map(({ path, message }) => {
    const source = sources.get(path);
    if (!source) fromFile = true;
    return `  ${path || '(top)'}: ${message}${source ? ` (set by the ${source})` : ''}`;
  });
  const head = fromFile ? `invalid configuration in ${where}` : `invalid configuration (not in ${where}: the values come from the environment or the command line)`;
  throw new ElError('EL_ERR_CONFIG', `${head}:\n${lines.join('\n')}`);
}

export function loadConfig(file: string, ...overrides: Overrides[]): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ElError('EL_ERR_CONFIG', `cannot read config file ${abs}: ${(e as Error).message}`);
  }
  const config = parseConfig(text, abs, overrides);
  const stateDir = dirname(abs);
  return { config, file: abs, stateDir, path: (p) => (isAbsolute(p) ? p : resolve(stateDir, p)) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function applyOverrides(raw: unknown, list: Overrides[]): unknown {
  // A document or section that is not a mapping stays as it is, so the schema names it
  // (an override cannot be set on a number, and must not throw a TypeError trying).
  if (!isObject(raw)) return raw;
  const cfg = structuredClone(raw);
  const sub = (s: Record<string, unknown>, name: string): Record<string, unknown> => {
    s[name] ??= {};
    return isObject(s[name]) ? s[name] : {};
  };
  const section = (name: string) => sub(cfg, name);
  for (const o of list) {
    if (o.logLevel !== undefined) section('log').level = o.logLevel;
    if (o.nodeId !== undefined) section('node').id = o.nodeId;
    if (o.brokerPort !== undefined) sub(section('broker'), 'listen').port = o.brokerPort;
    if (o.switchPort !== undefined) sub(section('switch'), 'listen').port = o.switchPort;
    if (o.adminPort !== undefined) section('admin').port = o.adminPort;
    if (o.listenHost !== undefined) {
      sub(section('broker'), 'listen').host = o.listenHost;
      sub(section('switch'), 'listen').host = o.listenHost;
      section('admin').host = o.listenHost;
    }
    if (o.advertise !== undefined) section('switch').advertise = o.advertise;
    if (o.clusterSecret !== undefined) {
      section('broker').clusterSecret = o.clusterSecret;
      const link = section('switch').broker;
      if (isObject(link)) link.clusterSecret = o.clusterSecret;
    }
    if (o.adminToken !== undefined) section('broker').adminToken = o.adminToken;
    if (o.redisPassword !== undefined) {
      // Only a Redis store takes a password. A file without broker.store (a switch's) has no store to give it to.
      const broker = isObject(cfg.broker) ? cfg.broker : undefined;
      if (isObject(broker?.store)) {
        if (broker.store.type !== 'redis') throw new ElError('EL_ERR_CONFIG', `the ${o.sources?.redisPassword ?? 'Redis password override'} sets broker.store.password, but broker.store is not a Redis store (type: ${JSON.stringify(broker.store.type)}): unset it or use a Redis store`);
        broker.store.password = o.redisPassword;
      }
    }
    if (o.trunkAdvertise !== undefined) {
      // Only a node with trunks (a switch.trunk section) has something to advertise them on.
      const sw = isObject(cfg.switch) ? cfg.switch : undefined;
      if (isObject(sw?.trunk)) sw.trunk.advertise = o.trunkAdvertise;
    }
  }
  return cfg;
}
