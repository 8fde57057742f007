import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElError } from '@elink/protocol';
import { DEFAULT_HTTP_LIMITS } from '@elink/broker';
import { DEFAULT_CONNECTION_LIMITS, DEFAULT_FD_RESERVE, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_LOG_INTERVAL_MS, DEFAULT_LOG_SAMPLE } from '@elink/switch';
import { loadConfig, overridesFromEnv } from './config.js';

const dirs: string[] = [];
function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'elink-config-'));
  dirs.push(dir);
  const f = join(dir, 'elink.yaml');
  writeFileSync(f, text);
  return f;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const minimal = `segments:\n  - name: lab\n    ipv4: { pool: 198.19.0.0/16 }\n`;

describe('loadConfig', () => {
  it('fills defaults and resolves paths against the state directory', () => {
    const f = file(minimal);
    const { config, stateDir, path } = loadConfig(f);
    expect(config.broker.listen).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(config.switch.listen.port).toBe(4443);
    expect(config.admin.port).toBe(9100);
    expect(config.segments[0]).toMatchObject({ name: 'lab', mode: 'l2', mtu: 1500, macsPerSession: 1, keepalive: { interval: 15, timeout: 45 } });
    expect(path(config.tls.ca)).toBe(join(stateDir, 'ca.pem'));
    expect(path('/etc/x.pem')).toBe('/etc/x.pem');
  });

  it('takes a bridge user’s LAN ranges and a segment’s inspection, bridge ranges and flood limit', () => {
    const hash = '$scrypt$N=16384,r=8,p=1$c2FsdA$aGFzaA';
    const f = file(
      `${minimal}    bridgeRanges: [192.168.1.0/25]\n    floodLimit: { rate: 5000 }\n    inspection: { nd: false }\n` +
        `users:\n  - { name: gw, password: '${hash}', segments: [lab], macs: 4096, lan: [192.168.7.0/24, 'fd00:7::/64'] }\n`,
    );
    const { config } = loadConfig(f);
    expect(config.users[0].lan).toEqual(['192.168.7.0/24', 'fd00:7::/64']);
    expect(config.segments[0]).toMatchObject({ bridgeRanges: ['192.168.1.0/25'], floodLimit: { rate: 5000, burst: 2000 }, inspection: { arp: true, nd: false } });
    expect(() => loadConfig(file(`${minimal}users:\n  - { name: gw, password: '${hash}', segments: [lab], lan: [192.168.7.1] }\n`))).toThrow(ElError);
  });

  it('limits: defaults come from the packages that enforce them; the file overrides each', () => {
    const { config } = loadConfig(file(minimal));
    expect(config.limits).toEqual({
      fdReserve: DEFAULT_FD_RESERVE,
      ...DEFAULT_CONNECTION_LIMITS,
      handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT_MS / 1000,
      headersTimeout: DEFAULT_HTTP_LIMITS.headersTimeoutMs / 1000,
      requestTimeout: DEFAULT_HTTP_LIMITS.requestTimeoutMs / 1000,
      idleTimeout: DEFAULT_HTTP_LIMITS.idleTimeoutMs / 1000,
      logInterval: DEFAULT_LOG_INTERVAL_MS / 1000,
      logSample: DEFAULT_LOG_SAMPLE,
    });
    expect(config.switch.replayJournal).toBe('replay.journal');
    const over = loadConfig(file(`${minimal}limits: { pendingPerSource: 4, maxFds: 4096, idleTimeout: 1.5 }\nswitch: { replayJournal: /var/lib/elink/replay }\n`)).config;
    expect(over.limits).toMatchObject({ pendingPerSource: 4, maxFds: 4096, idleTimeout: 1.5, pending: DEFAULT_CONNECTION_LIMITS.pending });
    expect(over.switch.replayJournal).toBe('/var/lib/elink/replay');
    expect(() => loadConfig(file(`${minimal}limits: { fdReserve: 2, acceptRate: 0 }\n`))).toThrow(/limits\.fdReserve[\s\S]*limits\.acceptRate/);
  });

  it('applies environment over the file and flags over the environment', () => {
    const f = file(`${minimal}broker:\n  listen: { port: 1111 }\nlog: { level: warn }\n`);
    const env = overridesFromEnv({ ELINK_BROKER_PORT: '2222', ELINK_LOG_LEVEL: 'debug', ELINK_ADVERTISE: 'vpn.example' });
    const { config } = loadConfig(f, env, { brokerPort: 3333 });
    expect(config.broker.listen.port).toBe(3333);
    expect(config.log.level).toBe('debug');
    expect(config.switch.advertise).toBe('vpn.example');
  });

  it('names every invalid field in one EL_ERR_CONFIG error', () => {
    const f = file(`segments:\n  - name: Bad Name\n    ipv4: { pool: 300.1.2.3/8 }\nusers:\n  - name: x\n    password: plain\n    segments: [nope]\n`);
    let err: unknown;
    try {
      loadConfig(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ElError);
    expect((err as ElError).code).toBe('EL_ERR_CONFIG');
    const msg = (err as ElError).message;
    expect(msg).toContain('segments.0.name');
    expect(msg).toContain('segments.0.ipv4.pool');
    expect(msg).toContain('users.0.password');
  });

  it('rejects users of unknown segments and duplicate segment names', () => {
    const f = file(`${minimal}  - name: lab\nusers:\n  - { name: a, password: "$scrypt$x", segments: [nope] }\n`);
    expect(() => loadConfig(f)).toThrow(/segment names must be unique[\s\S]*unknown segment "nope"|unknown segment "nope"[\s\S]*segment names must be unique/);
  });

  it('reports unreadable files and broken YAML with the path', () => {
    expect(() => loadConfig('/nonexistent/elink.yaml')).toThrow(/cannot read config file \/nonexistent\/elink.yaml/);
    const f = file('segments: [\n');
    expect(() => loadConfig(f)).toThrow(/is not valid YAML/);
  });
});
