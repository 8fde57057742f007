import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElError } from '@elink/protocol';
import { DEFAULT_HTTP_LIMITS } from '@elink/broker';
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_DTCP,
  DEFAULT_DTCP_PORT,
  DEFAULT_FD_RESERVE,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_BYTES,
  DEFAULT_ICMP_BURST,
  DEFAULT_ICMP_RATE,
  DEFAULT_L3_MAX_ROUTES,
  DEFAULT_LOG_INTERVAL_MS,
  DEFAULT_LOG_SAMPLE,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_FRAMES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_REPLAY_CACHE_SIZE,
  DEFAULT_WRITE_TIMEOUT_MS,
} from '@elink/switch';
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
    // limits.handshakeTimeout drives the switch's and the broker's TLS handshakes: their package defaults agree.
    expect(DEFAULT_HTTP_LIMITS.handshakeTimeoutMs).toBe(DEFAULT_HANDSHAKE_TIMEOUT_MS);
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

  it('switch.dtcp: defaults from DEFAULT_DTCP, strict keys, an L3 segment that exists (or may come from switch.broker)', () => {
    const l3 = `segments:\n  - { name: v6, mode: l3, ipv6: { pool: 'fd00:e1::/64' } }\n  - { name: lab, ipv4: { pool: 198.19.0.0/16 } }\n`;
    const c = loadConfig(file(`${l3}switch: { dtcp: { segment: v6 } }\n`)).config;
    expect(c.switch.dtcp).toEqual({ listen: { host: DEFAULT_DTCP.listen.host, port: DEFAULT_DTCP_PORT }, segment: 'v6', types: DEFAULT_DTCP.types, idleTimeout: DEFAULT_DTCP.idleTimeoutMs / 1000, tunnelIdleTimeout: DEFAULT_DTCP.tunnelIdleTimeoutMs / 1000, maxTunnels: DEFAULT_DTCP.maxTunnels });
    expect(DEFAULT_DTCP_PORT).toBe(20200);
    expect(loadConfig(file(minimal)).config.switch.dtcp).toBeUndefined();
    expect(() => loadConfig(file(`${l3}switch: { dtcp: { segment: v6, typo: 1 } }\n`))).toThrow(/switch\.dtcp/);
    expect(() => loadConfig(file(`${l3}switch: { dtcp: { segment: v6, types: [host, tunnelroute] } }\n`))).toThrow(/switch\.dtcp\.types/);
    expect(() => loadConfig(file(`${l3}switch: { dtcp: { segment: v6, types: [] } }\n`))).toThrow(/switch\.dtcp\.types/);
    expect(() => loadConfig(file(`${l3}switch: { dtcp: { segment: lab } }\n`))).toThrow(/segment "lab" is not an L3 segment/);
    expect(() => loadConfig(file(`${l3}switch: { dtcp: { segment: nope } }\n`))).toThrow(/switch\.dtcp\.segment: unknown segment "nope"/);
    // A standalone switch learns its segments from the brokers' heartbeat replies.
    const standalone = loadConfig(file(`switch: { broker: { urls: ['https://b:8443'], clusterSecret: cluster-secret-0123456789 }, dtcp: { segment: v6, types: [host] } }\n`)).config;
    expect(standalone.switch.dtcp).toMatchObject({ segment: 'v6', types: ['host'] });
  });

  it('switch.trunk: needs a secret without switch.broker; peers are host:port', () => {
    expect(() => loadConfig(file(`${minimal}switch: { trunk: {} }\n`))).toThrow(/switch\.trunk\.secret/);
    expect(() => loadConfig(file(`${minimal}switch: { trunk: { secret: trunk-secret-0123456789, peers: [nohost] } }\n`))).toThrow(/switch\.trunk\.peers/);
    const c = loadConfig(file(`${minimal}switch: { trunk: { secret: trunk-secret-0123456789, peers: ['10.0.0.2:4444'] } }\n`)).config;
    expect(c.switch.trunk).toMatchObject({ port: 4444, peers: ['10.0.0.2:4444'], maxPeers: 64, macMoves: { maxMoves: 5, window: 180, freeze: 300 } });
    expect(loadConfig(file(minimal)).config.switch.trunk).toBeUndefined();
    // A cluster CA instead of the secret: with this node's certificate and key, never alone.
    expect(loadConfig(file(`${minimal}switch: { trunk: { ca: trunk-ca.pem, cert: trunk.pem, key: trunk.key } }\n`)).config.switch.trunk).toMatchObject({ ca: 'trunk-ca.pem', cert: 'trunk.pem', key: 'trunk.key', keepalive: 5, keepaliveMissed: 3 });
    expect(() => loadConfig(file(`${minimal}switch: { trunk: { ca: trunk-ca.pem } }\n`))).toThrow(/switch\.trunk\.cert and switch\.trunk\.key/);
    expect(() => loadConfig(file(`${minimal}switch: { trunk: { secret: trunk-secret-0123456789, cert: trunk.pem, key: trunk.key } }\n`))).toThrow(/set switch\.trunk\.ca too/);
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

  it('switch keys: every SwitchNode knob with its package default, bounds refused by path', () => {
    const { config } = loadConfig(file(minimal));
    expect(config.switch).toMatchObject({
      helloTimeout: DEFAULT_HELLO_TIMEOUT_MS / 1000,
      maxSessions: DEFAULT_MAX_SESSIONS,
      writeTimeout: DEFAULT_WRITE_TIMEOUT_MS / 1000,
      closeGrace: DEFAULT_CLOSE_GRACE_MS / 1000,
      replayCacheSize: DEFAULT_REPLAY_CACHE_SIZE,
      queue: { maxFrames: DEFAULT_MAX_FRAMES, maxBytes: DEFAULT_MAX_BYTES, highWaterBytes: DEFAULT_HIGH_WATER_BYTES },
      l3: { maxRoutes: DEFAULT_L3_MAX_ROUTES, icmpRate: DEFAULT_ICMP_RATE, icmpBurst: DEFAULT_ICMP_BURST },
    });
    const over = loadConfig(file(`${minimal}switch: { queue: { maxFrames: 256 }, l3: { icmpBurst: 9 } }\n`)).config.switch;
    expect(over.queue).toEqual({ maxFrames: 256, maxBytes: DEFAULT_MAX_BYTES, highWaterBytes: DEFAULT_HIGH_WATER_BYTES });
    expect(over.l3).toEqual({ maxRoutes: DEFAULT_L3_MAX_ROUTES, icmpRate: DEFAULT_ICMP_RATE, icmpBurst: 9 });
    expect(() => loadConfig(file(`${minimal}switch: { writeTimeout: 0, replayCacheSize: 10, queue: { maxFrames: 1 }, l3: { icmpRate: 0 } }\n`))).toThrow(
      /switch\.writeTimeout[\s\S]*switch\.replayCacheSize[\s\S]*switch\.queue\.maxFrames[\s\S]*switch\.l3\.icmpRate/,
    );
  });

  it('reads a segment without mode as L2 and fills each variant with its own defaults', () => {
    const { config } = loadConfig(file(`${minimal}  - { name: core, mode: l3, ipv4: { pool: 198.20.0.0/16 } }\n`));
    expect(config.segments[0]).toMatchObject({ mode: 'l2', macsPerSession: 1, floodLimit: { rate: 1000, burst: 2000 } });
    expect(config.segments[0]).not.toHaveProperty('maxRoutes');
    expect(config.segments[1]).toMatchObject({ mode: 'l3', maxRoutes: 262144, reach: [] });
    expect(config.segments[1]).not.toHaveProperty('macsPerSession');
  });
});

describe('unknown keys', () => {
  /** The EL_ERR_CONFIG message for a file, which must be refused. */
  function refusal(text: string): string {
    const f = file(text);
    try {
      loadConfig(f);
    } catch (e) {
      expect(e).toBeInstanceOf(ElError);
      expect((e as ElError).code).toBe('EL_ERR_CONFIG');
      expect((e as ElError).message).toContain(`invalid configuration in ${f}`);
      return (e as ElError).message;
    }
    throw new Error('the file was accepted');
  }

  it('are refused at the top level and in each section, naming the nearest known key', () => {
    expect(refusal(`${minimal}switch: { drainSecond: 30 }\n`)).toContain('switch.drainSecond: unknown key "drainSecond" in switch (did you mean "drainSeconds"?)');
    expect(refusal(`${minimal}segmnts: []\n`)).toContain('segmnts: unknown key "segmnts" at the top level (did you mean "segments"?)');
    expect(refusal(`${minimal}switch: { queue: { maxFrame: 10 } }\n`)).toContain('switch.queue.maxFrame: unknown key "maxFrame" in switch.queue (did you mean "maxFrames"?)');
    expect(refusal(`${minimal}broker: { rateLimit: { perUsr: 3 } }\n`)).toContain('broker.rateLimit.perUsr: unknown key "perUsr" in broker.rateLimit (did you mean "perUser"?)');
    expect(refusal(`${minimal}broker: { listen: { prot: 1 } }\n`)).toContain('broker.listen.prot: unknown key "prot" in broker.listen (did you mean "port"?)');
    expect(refusal(`${minimal}limits: { pendingPerSorce: 3 }\n`)).toContain('(did you mean "pendingPerSource"?)');
    expect(refusal(`${minimal}log: { levl: debug }\n`)).toContain('log.levl: unknown key "levl" in log (did you mean "level"?)');
    expect(refusal(`${minimal}admin: { hots: 127.0.0.1 }\n`)).toContain('(did you mean "host"?)');
    expect(refusal(`${minimal}switch: { broker: { urls: ['https://b:8443'], clusterSecret: 0123456789abcdef, intervall: 5 } }\n`)).toContain(
      'switch.broker.intervall: unknown key "intervall" in switch.broker (did you mean "interval"?)',
    );
    expect(refusal(`${minimal}broker: { static: [{ segment: lab, user: a, ipv: 198.19.0.9 }] }\n`)).toContain('broker.static.0.ipv: unknown key "ipv" in broker.static.0 (did you mean "ipv4"');
  });

  it('a key that is no plain name is quoted in the message, under the path of its place', () => {
    expect(refusal(`${minimal}node: { 'i d': x }\n`)).toContain('  node: unknown key "i d" in node (did you mean "id"?)');
    expect(refusal(`${minimal}'': 1\n`)).toContain('  (top): unknown key "" at the top level');
    expect(refusal(`${minimal}"a\\nb": 1\n`)).toContain('  (top): unknown key "a\\nb" at the top level');
  });

  it('say nothing is near when no known key is', () => {
    const msg = refusal(`${minimal}switch: { bandwidth: 100 }\n`);
    expect(msg).toContain('switch.bandwidth: unknown key "bandwidth" in switch');
    expect(msg).not.toContain('did you mean');
  });

  it('in a store: the keys of the store type given', () => {
    expect(refusal(`${minimal}broker: { store: { type: redis, url: 'redis://127.0.0.1:6379', prefx: el } }\n`)).toContain('broker.store.prefx: unknown key "prefx" in broker.store (did you mean "prefix"?)');
    expect(refusal(`${minimal}broker: { store: { type: memory, snapshots: s.json } }\n`)).toContain('(did you mean "snapshot"?)');
  });

  it('in segments: a misspelt key, and a key of the other mode said to be one', () => {
    expect(refusal(`${minimal}    macAgeingSeconds: 60\n`)).toContain('segments.0.macAgeingSeconds: unknown key "macAgeingSeconds" in segment "lab" (did you mean "macAgingSeconds"?)');
    expect(refusal(`${minimal}    keepalive: { intervall: 5 }\n`)).toContain('segments.0.keepalive.intervall: unknown key "intervall" in keepalive of segment "lab" (did you mean "interval"?)');
    const l3 = `segments:\n  - name: core\n    mode: l3\n    ipv4: { pool: 198.19.0.0/16 }\n`;
    expect(refusal(`${l3}    macsPerSession: 4\n    bridge: { tap: t0, attach: br0 }\n`)).toMatch(
      /segments\.0\.macsPerSession: unknown key "macsPerSession" in segment "core": "macsPerSession" is a key of L2 segments and this segment is mode: l3\n  segments\.0\.bridge: [^\n]*L2 segments/,
    );
    expect(refusal(`${minimal}    reach: [core]\n`)).toContain('segments.0.reach: unknown key "reach" in segment "lab": "reach" is a key of L3 segments (mode: l3) and this segment is L2 (no mode, or mode: l2)');
    expect(refusal(`${l3}    maxRoute: 100\n`)).toContain('(did you mean "maxRoutes"?)');
    expect(refusal(`${l3}    delegation: { ipv6: { pool: 'fd00:e2::/48', lenght: 56 } }\n`)).toContain('segments.0.delegation.ipv6.lenght: unknown key "lenght" in delegation.ipv6 of segment "core" (did you mean "length"?)');
  });

  it('in users', () => {
    const hash = '$scrypt$N=16384,r=8,p=1$c2FsdA$aGFzaA';
    expect(refusal(`${minimal}users:\n  - { name: a, password: '${hash}', segments: [lab], mac: 4 }\n`)).toContain('users.0.mac: unknown key "mac" in user "a" (did you mean "macs"?)');
    expect(refusal(`${minimal}users:\n  - { name: a, password: '${hash}', segment: [lab] }\n`)).toContain('users.0.segment: unknown key "segment" in user "a" (did you mean "segments"?)');
  });

  it('every problem in one error, unknown keys among the others', () => {
    const msg = refusal(`${minimal}    mtu: 100\nswitch: { helloTimeut: 5, maxSessions: 0 }\n`);
    expect(msg).toContain('segments.0.mtu');
    expect(msg).toContain('switch.helloTimeut: unknown key');
    expect(msg).toContain('switch.maxSessions');
  });
});
