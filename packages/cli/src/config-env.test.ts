/** ELINK_* variables: bad values name the variable, *_FILE variants, flags named in errors. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, overridesFromEnv } from './config.js';
import { overridesFromFlags } from './args.js';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'elink-env-'));
  dirs.push(d);
  return d;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function configFile(text = `segments:\n  - name: lab\n    ipv4: { pool: 198.19.0.0/16 }\n`): string {
  const f = join(dir(), 'elink.yaml');
  writeFileSync(f, text);
  return f;
}

describe('overridesFromEnv', () => {
  it('refuses a bad port naming the variable, not the file', () => {
    expect(() => overridesFromEnv({ ELINK_BROKER_PORT: 'abc' })).toThrow(/environment variable ELINK_BROKER_PORT must be a port number 0-65535, got "abc"/);
    expect(() => overridesFromEnv({ ELINK_ADMIN_PORT: '70000' })).toThrow(/ELINK_ADMIN_PORT/);
    expect(() => overridesFromEnv({ ELINK_SWITCH_PORT: '-1' })).toThrow(/ELINK_SWITCH_PORT/);
    expect(overridesFromEnv({ ELINK_SWITCH_PORT: '4444' }).switchPort).toBe(4444);
  });

  it('names the variable behind a value the schema refuses, and says the file is fine', () => {
    const f = configFile();
    let message = '';
    try {
      loadConfig(f, overridesFromEnv({ ELINK_LOG_LEVEL: 'loud', ELINK_CLUSTER_SECRET: 'short' }));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`not in ${f}`);
    expect(message).toMatch(/log\.level: .*\(set by the environment variable ELINK_LOG_LEVEL\)/);
    expect(message).toMatch(/broker\.clusterSecret: .*\(set by the environment variable ELINK_CLUSTER_SECRET\)/);
  });

  it('names the flag when a flag set it, and blames the file for its own mistakes', () => {
    const f = configFile(`log: { level: loud }\nsegments:\n  - name: lab\n    ipv4: { pool: 198.19.0.0/16 }\n`);
    expect(() => loadConfig(f)).toThrow(new RegExp(`invalid configuration in ${f}:\\n  log\\.level: `));
    expect(() => loadConfig(configFile(), overridesFromEnv({ ELINK_LOG_LEVEL: 'info' }), overridesFromFlags({ 'log-level': 'chatty' }))).toThrow(/log\.level: .*\(set by the flag --log-level\)/);
  });

  it('reads secrets from *_FILE, trimming one trailing newline, and refuses both forms at once', () => {
    const d = dir();
    writeFileSync(join(d, 'secret'), 'a-cluster-secret-of-32-characters\n');
    writeFileSync(join(d, 'token'), 'an-admin-token-with-two-newlines\n\n');
    writeFileSync(join(d, 'empty'), '\n');
    const o = overridesFromEnv({ ELINK_CLUSTER_SECRET_FILE: join(d, 'secret'), ELINK_ADMIN_TOKEN_FILE: join(d, 'token') });
    expect(o.clusterSecret).toBe('a-cluster-secret-of-32-characters');
    expect(o.adminToken).toBe('an-admin-token-with-two-newlines\n');
    expect(o.sources?.clusterSecret).toBe('environment variable ELINK_CLUSTER_SECRET_FILE');
    const cfg = loadConfig(configFile(), o).config;
    expect(cfg.broker.clusterSecret).toBe('a-cluster-secret-of-32-characters');
    expect(() => overridesFromEnv({ ELINK_ADMIN_TOKEN: 'x'.repeat(20), ELINK_ADMIN_TOKEN_FILE: join(d, 'token') })).toThrow(/both ELINK_ADMIN_TOKEN and ELINK_ADMIN_TOKEN_FILE/);
    expect(() => overridesFromEnv({ ELINK_CLUSTER_SECRET_FILE: join(d, 'missing') })).toThrow(/ELINK_CLUSTER_SECRET_FILE \(.*missing\): ENOENT/);
    expect(() => overridesFromEnv({ ELINK_CLUSTER_SECRET_FILE: join(d, 'empty') })).toThrow(/ELINK_CLUSTER_SECRET_FILE .* is empty/);
    // The Redis password is a secret too, and lands in the Redis store's config.
    writeFileSync(join(d, 'redis'), 'a-redis-password\n');
    const redis = overridesFromEnv({ ELINK_REDIS_PASSWORD_FILE: join(d, 'redis') });
    expect(redis.redisPassword).toBe('a-redis-password');
    const withRedis = configFile(`broker:\n  store: { type: redis, url: "redis://elink-redis:6379/0" }\nsegments:\n  - name: lab\n    ipv4: { pool: 198.19.0.0/16 }\n`);
    expect(loadConfig(withRedis, redis).config.broker.store).toEqual({ type: 'redis', url: 'redis://elink-redis:6379/0', password: 'a-redis-password' });
    // A memory store takes no password: refused, naming the variable; a file without a store (a switch's) ignores it.
    const memory = configFile(`broker:\n  store: { type: memory }\nsegments:\n  - name: lab\n    ipv4: { pool: 198.19.0.0/16 }\n`);
    expect(() => loadConfig(memory, overridesFromEnv({ ELINK_REDIS_PASSWORD: 'pw' }))).toThrow(/environment variable ELINK_REDIS_PASSWORD sets broker\.store\.password, but broker\.store is not a Redis store/);
    expect(loadConfig(configFile(), overridesFromEnv({ ELINK_REDIS_PASSWORD: 'pw' })).config.broker.store).toEqual({ type: 'memory', snapshot: 'store.json' });
    // The trunk address is for a node with trunks; a file without switch.trunk ignores it.
    expect(loadConfig(configFile(), overridesFromEnv({ ELINK_TRUNK_ADVERTISE: 'sw-0.trunk' })).config.switch).not.toHaveProperty('trunk');
    const trunked = configFile(`switch:\n  trunk: { port: 4444, secret: a-trunk-secret-of-enough-length }\nsegments:\n  - name: lab\n    ipv4: { pool: 198.19.0.0/16 }\n`);
    expect(loadConfig(trunked, overridesFromEnv({ ELINK_TRUNK_ADVERTISE: 'sw-0.trunk' })).config.switch.trunk?.advertise).toBe('sw-0.trunk');
    // Only secrets have a file form.
    expect(overridesFromEnv({ ELINK_BROKER_PORT_FILE: join(d, 'secret') }).brokerPort).toBeUndefined();
  });
});
