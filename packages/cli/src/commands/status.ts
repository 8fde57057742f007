/**
 * `elink status`: nodes, sessions and leases at a glance, from a broker's admin API
 * (GET /v1/admin/status with the admin token).
 */
import { existsSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import { adminStatusReplySchema, ElError, errorBodySchema, isErrorCode, parseReply } from '@elink/protocol';
import { parse } from '../args.js';
import { loadConfig, overridesFromEnv } from '../config.js';
import { ADMIN_TOKEN_FILE, CONFIG_FILE } from '../state.js';

/** The help of the flags every admin command shares (adminTarget). */
export const ADMIN_FLAGS_HELP = `  --broker URL       default https://127.0.0.1:<broker.listen.port> of the config (ELINK_BROKER_PORT wins)
  --token-file FILE  admin token (default: env ELINK_ADMIN_TOKEN / ELINK_ADMIN_TOKEN_FILE, broker.adminToken,
                     else the admin-token file \`elink up\` made in the state directory)
  --ca FILE          CA of the broker certificate (default: the state directory's ca.pem)
  -c, --config FILE / --state DIR   where the config is (default ./.elink-state/elink.yaml)
  --json             print the reply as JSON`;

export const statusHelp = `elink status — nodes, sessions and leases at a glance (the broker's admin API)

Usage: elink status [--broker URL] [--token-file FILE] [--ca FILE] [--json]
${ADMIN_FLAGS_HELP}`;

export async function statusCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, ADMIN_OPTIONS);
  if (values.help) return void console.log(statusHelp);
  const { broker, token, ca } = adminTarget(values);
  const url = new URL('/v1/admin/status', broker);
  const raw = await adminJson(url, token, ca);
  const reply = parseReply(adminStatusReplySchema, raw, `the admin status reply of broker ${url.origin}`);
  if (values.json) return void console.log(JSON.stringify(raw, null, 2));
  console.log(`store: ${reply.store}   published keys: ${reply.keys}   sessions (healthy nodes): ${reply.sessions}`);
  console.log('\nnode\tkind\thealthy\tdraining\tsessions/capacity\taddress\tlast report');
  for (const n of reply.nodes) console.log(`${n.node}\t${n.inProcess ? 'in-process' : 'registered'}\t${!n.healthy ? 'NO' : n.suspectSince ? `suspect since ${n.suspectSince}` : 'yes'}\t${n.draining ? 'yes' : 'no'}\t${n.sessions}/${n.capacity}\t${n.hosts.join(',')}:${n.port}\t${n.seenAt}`);
  for (const n of reply.static ?? []) console.log(`${n.node}\tstatic\t?\t?\t? (sends no heartbeat)\t${n.host}:${n.port}\t-`);
  if (reply.nodes.length === 0 && !reply.static?.length) console.log('(no nodes)');
  console.log('\nsegment\tleases');
  for (const [seg, n] of Object.entries(reply.leases)) console.log(`${seg}\t${n}`);
}

/** The flags of every admin command: which broker, token and CA (adminTarget), --json, --help. */
export const ADMIN_OPTIONS = {
  broker: { type: 'string' },
  'token-file': { type: 'string' },
  ca: { type: 'string' },
  config: { type: 'string', short: 'c' },
  state: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type TargetFlags = { broker?: string | undefined; 'token-file'?: string | undefined; ca?: string | undefined; config?: string | undefined; state?: string | undefined };

/**
 * Which broker's admin API, with which token and CA: flags first, then the environment
 * (ELINK_BROKER_PORT, ELINK_ADMIN_TOKEN[_FILE]), then the config, then what `elink up`
 * left in the state directory (admin-token). Shared by the admin commands.
 */
export function adminTarget(values: TargetFlags): { broker: string; token: string; ca: Buffer } {
  const stateDir = resolve(values.state ?? process.env.ELINK_STATE_DIR ?? '.elink-state');
  const file = values.config ?? process.env.ELINK_CONFIG ?? join(stateDir, CONFIG_FILE);
  const env = overridesFromEnv();
  const needConfig = !values.broker || (!values['token-file'] && env.adminToken === undefined) || !values.ca;
  const loaded = needConfig ? loadConfig(file, env) : undefined;
  const listen = loaded?.config.broker.listen;
  // A broker listening on every address answers on loopback; one bound to an address, there.
  const host = !listen || listen.host === '0.0.0.0' || listen.host === '::' || listen.host === '' ? '127.0.0.1' : listen.host;
  const broker = values.broker ?? `https://${host.includes(':') ? `[${host}]` : host}:${listen!.port}`;
  const tokenFile = loaded && join(loaded.stateDir, ADMIN_TOKEN_FILE);
  const token = values['token-file'] ? readFileSync(values['token-file'], 'utf8').trim() : (loaded?.config.broker.adminToken ?? env.adminToken ?? (tokenFile && existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined));
  if (!token) throw new ElError('EL_ERR_INVALID', `no admin token: pass --token-file, set ELINK_ADMIN_TOKEN, set broker.adminToken in the config, or run elink up once (it writes ${tokenFile ?? ADMIN_TOKEN_FILE})`);
  const ca = readFileSync(values.ca ?? loaded!.path(loaded!.config.tls.ca));
  return { broker, token, ca };
}

/** One admin API request (a JSON body for POST); the reply's JSON, or the broker's error as an ElError. */
export function adminJson(url: URL, token: string, ca: Buffer, method: 'GET' | 'POST' | 'PUT' | 'DELETE' = 'GET', body?: unknown): Promise<unknown> {
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolvePromise, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) };
    const req = send(url, { method, headers, ca, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return reject(new ElError('EL_ERR_UNAVAILABLE', `broker answered ${res.statusCode} without JSON`));
        }
        if (res.statusCode !== 200) {
          const e = errorBodySchema.safeParse(body);
          return reject(new ElError(e.success && isErrorCode(e.data.error) ? e.data.error : 'EL_ERR_INTERNAL', e.success ? e.data.message : `HTTP ${res.statusCode}`));
        }
        resolvePromise(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error('broker did not answer in time')));
    req.on('error', (err) => reject(new ElError('EL_ERR_UNAVAILABLE', `cannot reach the broker at ${url.origin}: ${err.message}`)));
    req.end(payload);
  });
}
