/**
 * Every switch key of the config file reaches the SwitchNode: the mapping
 * (switchNodeSettings) with values unlike the defaults, and a real node started by
 * startServices that applies them (a hello timeout a peer sees on the wire, the limits
 * the node holds).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createCertificateAuthority, issueNodeCertificate } from '@elink/pki';
import { pino } from 'pino';
import { ALPN, MAX_CONTROL_PAYLOAD, parseControl, RecordReader, RecordType, type ControlMessage } from '@elink/protocol';
import { DEFAULT_CLOSE_GRACE_MS, DEFAULT_HELLO_TIMEOUT_MS, DEFAULT_L3_MAX_ROUTES, DEFAULT_REPLAY_CACHE_SIZE, DEFAULT_WRITE_TIMEOUT_MS } from '@elink/switch';
import { loadConfig } from './config.js';
import { startServices, switchNodeSettings, switchTrunkSettings, type Services } from './services.js';
import { initState } from './state.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const SWITCH = `switch:
  listen: { host: 127.0.0.1, port: 0 }
  drainSeconds: 0
  helloTimeout: 1.5
  maxSessions: 77
  gso: false
  writeTimeout: 2.5
  closeGrace: 0.25
  replayCacheSize: 5000
  replayJournal: journal.bin
  queue: { maxFrames: 128, maxBytes: 131072, highWaterBytes: 262144 }
  l3: { maxRoutes: 1000, icmpRate: 7, icmpBurst: 3 }
  sixInFour: { queueFrames: 64, ttl: 30 }
  proxyProtocol: { trusted: [10.0.0.0/8, 'fd00::/8'] }
  websocket: { url: 'wss://vpn.example/v1/el', listen: { port: 8080 }, trusted: [10.1.0.0/16] }
limits: { handshakeTimeout: 3, logInterval: 20, logSample: 2, pending: 9, pendingPerSource: 4, acceptRate: 11, acceptRatePerSource: 6 }
`;

async function stateDir(extra: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'elink-settings-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  await initState(dir);
  const file = join(dir, 'elink.yaml');
  const base = readFileSync(file, 'utf8').replace(/^(broker|switch|admin|limits):.*\n(  .*\n)*/gm, '');
  writeFileSync(file, `${base}broker: { listen: { host: 127.0.0.1, port: 0 } }\nadmin: { host: 127.0.0.1, port: 0 }\n${extra}`);
  return file;
}

describe('broker settings from the config file', () => {
  it('a challenge lives broker.challengeTtl seconds', async () => {
    const file = await stateDir('switch: { listen: { host: 127.0.0.1, port: 0 }, drainSeconds: 0 }\n');
    writeFileSync(file, readFileSync(file, 'utf8').replace('broker: { listen: { host: 127.0.0.1, port: 0 } }', 'broker: { listen: { host: 127.0.0.1, port: 0 }, challengeTtl: 500, nodeTimeout: 40 }'));
    const loaded = loadConfig(file);
    expect(loaded.config.broker).toMatchObject({ challengeTtl: 500, nodeTimeout: 40 });
    const services = await startServices(loaded, { broker: true, switch: false }, pino({ level: 'silent' }));
    cleanup.push(() => services.stop('test'));
    const ca = readFileSync(join(loaded.stateDir, 'ca.pem'));
    const before = Date.now();
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: services.endpoints.broker!.port, path: '/v1/challenge', ca, servername: 'localhost' }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    const life = (Date.parse((JSON.parse(body) as { expiresAt: string }).expiresAt) - before) / 1000;
    // 500 s configured against a 30 s default: the bounds leave seconds of slack either side.
    expect(life).toBeGreaterThan(490);
    expect(life).toBeLessThanOrEqual(501);
  });
});

describe('switch settings from the config file', () => {
  it('maps every key to its SwitchNodeOptions field', async () => {
    const loaded = loadConfig(await stateDir(SWITCH));
    expect(switchNodeSettings(loaded)).toEqual({
      helloTimeoutMs: 1500,
      handshakeTimeoutMs: 3000,
      maxSessions: 77,
      writeTimeoutMs: 2500,
      closeGraceMs: 250,
      replayCacheSize: 5000,
      queue: { maxFrames: 128, maxBytes: 131072, highWaterBytes: 262144 },
      l3: { maxRoutes: 1000, icmpRate: 7, icmpBurst: 3 },
      sixInFour: { queueFrames: 64, socket: { ttl: 30 } },
      gso: false,
      connectionLimits: { pending: 9, pendingPerSource: 4, acceptRate: 11, acceptRatePerSource: 6 },
      proxyProtocol: { trusted: ['10.0.0.0/8', 'fd00::/8'] },
      websocket: { listen: { host: '127.0.0.1', port: 8080 }, trusted: ['10.1.0.0/16'] }, // host: switch.listen.host's
      logIntervalMs: 20_000,
      logSample: 2,
      replayJournal: join(loaded.stateDir, 'journal.bin'),
    });
  });

  it('maps switch.trunk (absent: no trunks); the secret falls back to switch.broker.clusterSecret, the host to switch.listen.host', async () => {
    expect(switchTrunkSettings(loadConfig(await stateDir(SWITCH)))).toBeUndefined();
    const trunk = `  trunk: { port: 0, peers: ['127.0.0.1:5555', '[::1]:5556'], maxPeers: 9, maxRemotePerSegment: 100, announceRate: 50, announceBurst: 60, keepalive: 2, keepaliveMissed: 4, macMoves: { maxMoves: 2, window: 30, freeze: 40 } }\n  broker: { urls: ['https://127.0.0.1:1'], clusterSecret: cluster-secret-0123456789 }\n`;
    expect(switchTrunkSettings(loadConfig(await stateDir(SWITCH.replace('  drainSeconds: 0\n', `  drainSeconds: 0\n${trunk}`))))).toEqual({
      port: 0,
      host: '127.0.0.1',
      secret: 'cluster-secret-0123456789',
      requireCert: true,
      peers: ['127.0.0.1:5555', '[::1]:5556'],
      maxPeers: 9,
      maxRemotePerSegment: 100,
      announceRate: 50,
      announceBurst: 60,
      macMoves: { maxMoves: 2, windowSeconds: 30, freezeSeconds: 40 },
      keepaliveMs: 2000,
      keepaliveMissed: 4,
    });
  });

  it('reads the cluster CA and this node’s trunk certificate and key (paths relative to the config); no secret needed then', async () => {
    const file = await stateDir(SWITCH.replace('  drainSeconds: 0\n', '  drainSeconds: 0\n  trunk: { port: 0, ca: trunk-ca.pem, cert: trunk.pem, key: trunk.key }\n'));
    const dir = dirname(file);
    const ca = await createCertificateAuthority('trunk CA');
    const node = await issueNodeCertificate(ca, 'sw-0');
    writeFileSync(join(dir, 'trunk-ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'trunk.pem'), node.certPem);
    writeFileSync(join(dir, 'trunk.key'), node.keyPem);
    const t = switchTrunkSettings(loadConfig(file))!;
    expect(t.secret).toBe('');
    expect(t.clusterCa).toEqual({ ca: Buffer.from(ca.certPem), cert: Buffer.from(node.certPem), key: Buffer.from(node.keyPem) });
  });

  it('a node started with switch.trunk listens on its trunk port and shows no trunks yet', async () => {
    const services: Services = await startServices(loadConfig(await stateDir(SWITCH.replace('  drainSeconds: 0\n', "  drainSeconds: 0\n  trunk: { port: 0, host: 127.0.0.1, secret: trunk-secret-0123456789 }\n"))), { broker: true, switch: true }, pino({ level: 'silent' }));
    cleanup.push(() => services.stop('test'));
    const hub = services.switchNode!.trunks!;
    expect(hub.address().port).toBeGreaterThan(0);
    expect(services.switchNode!.stats.trunks).toEqual([]);
  });

  it('defaults each to the switch package’s own default', async () => {
    const s = switchNodeSettings(loadConfig(await stateDir('switch: { listen: { host: 127.0.0.1, port: 0 } }\n')));
    expect(s).toMatchObject({ helloTimeoutMs: DEFAULT_HELLO_TIMEOUT_MS, writeTimeoutMs: DEFAULT_WRITE_TIMEOUT_MS, closeGraceMs: DEFAULT_CLOSE_GRACE_MS, replayCacheSize: DEFAULT_REPLAY_CACHE_SIZE });
    expect(s.l3.maxRoutes).toBe(DEFAULT_L3_MAX_ROUTES);
  });

  it('a node started from the file applies them: the hello timeout a silent peer is told, the limits it holds', async () => {
    const services: Services = await startServices(loadConfig(await stateDir(SWITCH)), { broker: true, switch: true }, pino({ level: 'silent' }));
    cleanup.push(() => services.stop('test'));
    const node = services.switchNode!;
    expect(node.helloTimeoutMs).toBe(1500);
    expect(node.writeTimeoutMs).toBe(2500);
    expect(node.closeGraceMs).toBe(250);
    expect(node.maxSessions).toBe(77);
    expect(node.gso).toBe(false);
    expect(node.replay.capacity).toBe(5000);
    expect(node.router.v4.maxRoutes).toBe(1000);

    // A peer that completes TLS and says nothing is ended with the configured timeout in the message.
    const msg = await new Promise<ControlMessage>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: services.endpoints.switch!.port, ALPNProtocols: [ALPN], rejectUnauthorized: false });
      const timer = setTimeout(() => (sock.destroy(), reject(new Error('no error record within 10 s'))), 10_000);
      const reader = new RecordReader((type, payload) => {
        if (type !== RecordType.CONTROL) return;
        clearTimeout(timer);
        sock.destroy();
        resolve(parseControl(payload));
      }).accept(RecordType.CONTROL, MAX_CONTROL_PAYLOAD);
      sock.on('data', (chunk: Buffer) => void reader.push(chunk));
      sock.on('error', reject);
    });
    expect(msg).toMatchObject({ type: 'error', code: 'EL_ERR_HELLO_TIMEOUT' });
    expect(JSON.stringify(msg)).toContain('no hello within 1500 ms');
  });
});
