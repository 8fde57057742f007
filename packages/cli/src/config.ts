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
import { ElError, segmentSchema } from '@elink/protocol';

const port = z.number().int().min(0).max(65535);
const listen = (p: number) => z.object({ host: z.string().default('0.0.0.0'), port: port.default(p) }).default({ host: '0.0.0.0', port: p });

export const userSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'letters, digits and . _ @ -, at most 128'),
  /** scrypt hash made by `elink user add`; never a clear-text password. */
  password: z.string().startsWith('$scrypt$', 'must be a hash from `elink user add`'),
  segments: z.array(z.string()).min(1),
  /** Source MACs this user's sessions may use: set it for a bridge with a LAN behind it. */
  macs: z.number().int().min(1).max(65536).optional(),
});

export const configSchema = z
  .object({
    node: z.object({ id: z.string().min(1).max(64).default(hostname()) }).default({ id: hostname() }),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).default({ level: 'info' }),
    tls: z
      .object({ ca: z.string().default('ca.pem'), cert: z.string().default('server.pem'), key: z.string().default('server.key') })
      .default({ ca: 'ca.pem', cert: 'server.pem', key: 'server.key' }),
    broker: z
      .object({
        listen: listen(8443),
        ticketTtl: z.number().int().min(5).max(3600).default(60),
        signingKey: z.string().default('ticket-signing.key'),
        /** Switch nodes for a standalone broker (`elink broker`); `elink up` uses its own. */
        nodes: z
          .array(z.object({ node: z.string(), host: z.string(), port, fingerprint: z.string().optional(), segments: z.array(z.string()).optional() }))
          .default([]),
      })
      .default({ listen: { host: '0.0.0.0', port: 8443 }, ticketTtl: 60, signingKey: 'ticket-signing.key', nodes: [] }),
    switch: z
      .object({
        listen: listen(4443),
        /** The address clients are told to connect to. Unset: the address they reached the broker at. */
        advertise: z.string().optional(),
        ciphers: z.string().optional(),
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
        ecdhCurve: z.string().optional(),
        helloTimeout: z.number().min(1).max(60).default(5),
        maxSessions: z.number().int().min(1).max(1_000_000).default(20_000),
        /** Broker public keys (PEM files) for a standalone switch (`elink switch`). */
        ticketKeys: z.array(z.string()).default([]),
      })
      .default({ listen: { host: '0.0.0.0', port: 4443 }, minVersion: 'TLSv1.2', helloTimeout: 5, maxSessions: 20_000, ticketKeys: [] }),
    admin: listen(9100),
    segments: z.array(segmentSchema).min(1, 'at least one segment'),
    users: z.array(userSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    const names = new Set(cfg.segments.map((s) => s.name));
    if (names.size !== cfg.segments.length) ctx.addIssue({ code: 'custom', path: ['segments'], message: 'segment names must be unique' });
    cfg.users.forEach((u, i) => {
      for (const s of u.segments) if (!names.has(s)) ctx.addIssue({ code: 'custom', path: ['users', i, 'segments'], message: `unknown segment "${s}"` });
    });
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
}

export function overridesFromEnv(env: NodeJS.ProcessEnv = process.env): Overrides {
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return {
    logLevel: env.ELINK_LOG_LEVEL || undefined,
    brokerPort: num(env.ELINK_BROKER_PORT),
    switchPort: num(env.ELINK_SWITCH_PORT),
    adminPort: num(env.ELINK_ADMIN_PORT),
    listenHost: env.ELINK_LISTEN_HOST || undefined,
    advertise: env.ELINK_ADVERTISE || undefined,
    nodeId: env.ELINK_NODE_ID || undefined,
  };
}

export function loadConfig(file: string, ...overrides: Overrides[]): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ElError('EL_ERR_CONFIG', `cannot read config file ${abs}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    throw new ElError('EL_ERR_CONFIG', `${abs} is not valid YAML: ${(e as Error).message}`);
  }
  const merged = applyOverrides(raw as Record<string, unknown>, overrides);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new ElError('EL_ERR_CONFIG', `invalid configuration in ${abs}:\n${lines.join('\n')}`);
  }
  const stateDir = dirname(abs);
  return { config: result.data, file: abs, stateDir, path: (p) => (isAbsolute(p) ? p : resolve(stateDir, p)) };
}

function applyOverrides(raw: Record<string, unknown>, list: Overrides[]): Record<string, unknown> {
  const cfg = structuredClone(raw);
  const section = (name: string) => ((cfg[name] ??= {}) as Record<string, unknown>);
  const sub = (s: Record<string, unknown>, name: string) => ((s[name] ??= {}) as Record<string, unknown>);
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
  }
  return cfg;
}
