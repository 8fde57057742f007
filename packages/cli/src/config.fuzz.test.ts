/**
 * Property-based tests of the configuration file: arbitrary text, arbitrary YAML
 * documents and a valid file with one field replaced by anything — with and without
 * environment/flag overrides — load or fail with EL_ERR_CONFIG naming the field; no
 * other exception. fast-check prints the seed and the shrunk counterexample on failure.
 */
import { afterAll, describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ElError } from '@elink/protocol';
import { loadConfig, overridesFromEnv, type Overrides } from './config.js';

const RUNS = { numRuns: 200 };
const dir = mkdtempSync(join(tmpdir(), 'elink-config-fuzz-'));
const file = join(dir, 'elink.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Loads `text`; returns the error message, or undefined when it loaded. Anything but
 * EL_ERR_CONFIG fails the test. */
function load(text: string, overrides: Overrides[] = []): string | undefined {
  writeFileSync(file, text);
  try {
    loadConfig(file, ...overrides);
    return undefined;
  } catch (e) {
    if (!(e instanceof ElError)) throw new Error(`loadConfig threw a non-ElError: ${String(e)}`);
    expect(e.code).toBe('EL_ERR_CONFIG');
    return e.message;
  }
}

/** The field paths an EL_ERR_CONFIG message names (its "  path: reason" lines). */
function namedPaths(message: string): string[] {
  return [...message.matchAll(/^ {2}(\S+): /gm)].map((m) => m[1]);
}

/** Overrides as the environment gives them: any strings, numbers from any text. */
const envArb = fc
  .record(
    {
      ELINK_LOG_LEVEL: fc.oneof(fc.constantFrom('debug', 'warn', 'loud'), fc.string({ maxLength: 8 })),
      ELINK_BROKER_PORT: fc.oneof(fc.constantFrom('8443', '0', '70000', '-1', 'x', '1e3'), fc.string({ maxLength: 6 })),
      ELINK_SWITCH_PORT: fc.constantFrom('4443', 'NaN', ' '),
      ELINK_ADMIN_PORT: fc.constantFrom('9100', '1.5'),
      ELINK_LISTEN_HOST: fc.constantFrom('127.0.0.1', '::1'),
      ELINK_ADVERTISE: fc.string({ maxLength: 10 }),
      ELINK_NODE_ID: fc.string({ maxLength: 70 }),
      ELINK_CLUSTER_SECRET: fc.constantFrom('short', 'a-cluster-secret-long-enough'),
      ELINK_ADMIN_TOKEN: fc.constantFrom('x', 'an-admin-token-long-enough'),
    },
    { requiredKeys: [] },
  )
  .map((env) => {
    try {
      return [overridesFromEnv(env)];
    } catch (e) {
      // A bad number is refused up front, naming its variable; anything else is a bug.
      if (e instanceof ElError && e.code === 'EL_ERR_CONFIG' && /^the environment variable ELINK_[A-Z_]+ must be a port number/.test(e.message)) return [] as Overrides[];
      throw e;
    }
  });
const overridesArb = fc.oneof(fc.constant([] as Overrides[]), envArb);

const valid = {
  node: { id: 'sw-1' },
  log: { level: 'info' },
  broker: {
    listen: { host: '127.0.0.1', port: 8443 },
    ticketTtl: 60,
    store: { type: 'memory', snapshot: 'store.json' },
    clusterSecret: 'a-cluster-secret-long-enough',
    rateLimit: { perUser: 10, perAddress: 50, window: 300 },
    nodes: [{ node: 'sw-2', host: '127.0.0.2', port: 4443 }],
  },
  switch: { listen: { port: 4443 }, helloTimeout: 5, maxSessions: 100, gso: true, drainSeconds: 5, broker: { urls: ['https://127.0.0.1:8443'], clusterSecret: 'a-cluster-secret-long-enough', interval: 5 } },
  admin: { port: 9100 },
  segments: [{ name: 'lab', mode: 'l3', mtu: 1500, ipv4: { pool: '198.19.0.0/16' }, ipv6: { pool: 'fd00:e1::/64' }, keepalive: { interval: 15, timeout: 45 }, reach: ['lab'] }],
};

/** Every path to a value in `o` (objects and arrays included), e.g. ['segments', 0, 'ipv4']. */
function paths(o: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof o !== 'object' || o === null) return [];
  const out: (string | number)[][] = [];
  for (const [k, v] of Object.entries(o)) {
    const p = [...prefix, Array.isArray(o) ? Number(k) : k];
    out.push(p, ...paths(v, p));
  }
  return out;
}
const validPaths = paths(valid);

function replaced(path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(valid) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path[path.length - 1]] = value;
  return copy;
}

const wildValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 0, -1, 1.5, 1e308, '', '0', 'yes', '~', '198.19.0.0/33', 'fd00::/129', [], {}, [null], { type: 'redis' }),
);

describe('loadConfig under arbitrary input (fast-check)', () => {
  it('loads a valid file (the base the other properties edit)', () => {
    expect(load(stringify(valid))).toBeUndefined();
  });

  it('overrides over sections that are not mappings: EL_ERR_CONFIG naming the section', () => {
    const every = overridesFromEnv({ ELINK_LOG_LEVEL: 'debug', ELINK_BROKER_PORT: '1', ELINK_SWITCH_PORT: '2', ELINK_ADMIN_PORT: '3', ELINK_LISTEN_HOST: '::1', ELINK_ADVERTISE: 'a', ELINK_NODE_ID: 'n', ELINK_CLUSTER_SECRET: 'a-cluster-secret-long-enough', ELINK_ADMIN_TOKEN: 'an-admin-token-long-enough' });
    for (const path of [['log'], ['node'], ['broker'], ['broker', 'listen'], ['switch'], ['switch', 'listen'], ['switch', 'broker'], ['admin']]) {
      for (const value of [5, 'text', true, [1]]) {
        const message = load(stringify(replaced(path, value)), [every]);
        expect(namedPaths(message ?? ''), `${path.join('.')} = ${JSON.stringify(value)}: ${message}`).toContain(path.join('.'));
      }
    }
    expect(namedPaths(load('42', [every]) ?? '')).toEqual(['(top)']);
  });

  it('arbitrary text, YAML-looking or not: loads or fails with EL_ERR_CONFIG', () => {
    const yamlish = fc.array(fc.constantFrom('a: 1', '- x', '&a [*a]', '*b', '!!binary aGk=', '!!set {a}', '!!omap [a: 1]', '!foo x', '? [a]\n: b', '<<: *a', '{', ']', '"\\u', "'", '%YAML 1.1', '---', '...', '\t', 'segments:', '  - name: lab', 'broker: 5', 'log: []', '__proto__: {}'), { maxLength: 8 }).map((l) => l.join('\n'));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), yamlish), overridesArb, (text, overrides) => {
        load(text, overrides);
      }),
      RUNS,
    );
  });

  it('arbitrary YAML documents: loads or fails with EL_ERR_CONFIG naming the fields', () => {
    const doc = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.dictionary(fc.constantFrom('node', 'log', 'tls', 'broker', 'switch', 'admin', 'segments', 'users', '__proto__', 'x'), wildValue, { maxKeys: 5 }),
    );
    fc.assert(
      fc.property(doc, overridesArb, (value, overrides) => {
        const message = load(stringify(value), overrides);
        if (message !== undefined) expect(namedPaths(message).length, message).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('a valid file with one field replaced by anything: loads, or EL_ERR_CONFIG names that field', () => {
    fc.assert(
      fc.property(fc.constantFrom(...validPaths), wildValue, overridesArb, (path, value, overrides) => {
        const message = load(stringify(replaced(path, value)), overrides);
        if (message === undefined) return;
        const named = namedPaths(message);
        const target = path.join('.');
        const parent = path.slice(0, -1).join('.');
        // The message names the field, a field inside it, the object holding it (a union
        // or a rule across siblings), or an override the environment got wrong.
        const related = (p: string) => target.startsWith(p) || p.startsWith(target) || (parent !== '' && p.startsWith(parent));
        const fromOverrides = overrides.length > 0;
        expect(named.some(related) || (fromOverrides && named.length > 0), `${target} = ${JSON.stringify(value)}: ${message}`).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
