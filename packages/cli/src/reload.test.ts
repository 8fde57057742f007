import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority, issueNodeCertificate } from '@elink/pki';
import { pino } from 'pino';
import { parseDocument, type YAMLSeq } from 'yaml';
import { loadConfig } from './config.js';
import { ConfigReloader, lostAccess } from './reload.js';
import { startServices } from './services.js';
import { initState } from './state.js';

const u = (name: string, segments: string[]) => ({ name, password: '$scrypt$x', segments });

describe('lostAccess', () => {
  it('ends a removed user everywhere and a user only in segments that left their list; a password change or another user keeps the session', () => {
    const gone = lostAccess(
      [u('alice', ['lab', 'ops']), u('bob', ['lab']), u('carol', ['lab'])],
      [u('alice', ['lab']), { ...u('carol', ['lab']), password: '$scrypt$y' }],
    );
    expect(gone('alice', 'ops')).toBe(true);
    expect(gone('alice', 'lab')).toBe(false);
    expect(gone('bob', 'lab')).toBe(true);
    expect(gone('carol', 'lab')).toBe(false);
    // Not a user of the file before (the Redis store's, or unknown): not ours to end.
    expect(gone('dave', 'lab')).toBe(false);
  });
});

describe('ConfigReloader on real services (broker + switch in one process)', () => {
  /** The services of `file` (broker and switch) with a reloader, and their log lines. */
  async function serve(file: string, debounceMs?: number) {
    const logs: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, cb) => (c.toString().split('\n').filter(Boolean).forEach((l) => logs.push(JSON.parse(l))), cb()) }));
    const loaded = loadConfig(file);
    const services = await startServices(loaded, { broker: true, switch: true }, logger);
    const reloader = new ConfigReloader({ current: loaded, load: () => loadConfig(file), services, kinds: { broker: true, switch: true }, logger, registry: services.registry, debounceMs });
    return { logs, services, reloader };
  }

  it('checks everything before applying anything: a bad hash next to a new segment adds neither; a watch event without changes is dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elink-reloader-'));
    const file = join(dir, 'elink.yaml');
    await initState(dir);
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.setIn(['broker', 'listen'], doc.createNode({ host: '127.0.0.1', port: 0 }));
    doc.setIn(['switch', 'listen'], doc.createNode({ host: '127.0.0.1', port: 0 }));
    doc.setIn(['switch', 'drainSeconds'], 0);
    doc.setIn(['admin'], doc.createNode({ host: '127.0.0.1', port: 0 }));
    writeFileSync(file, doc.toString());
    const { logs, services, reloader } = await serve(file);
    const login = (segment: string) => services.broker!.inject({ method: 'POST', url: '/v1/login', payload: { user: 'demo', password: readFileSync(join(dir, 'demo.password'), 'utf8').trim(), segment } });
    try {
      expect(reloader.reload('watch')).toBe('unchanged');

      const bad = parseDocument(readFileSync(file, 'utf8'));
      (bad.get('segments') as YAMLSeq).add(bad.createNode({ name: 'ops', ipv4: { pool: '198.19.99.0/24' } }));
      (bad.get('users') as YAMLSeq).add(bad.createNode({ name: 'eve', password: '$scrypt$not-a-hash', segments: ['ops'] }));
      writeFileSync(file, bad.toString());
      expect(reloader.reload('signal')).toBe('error');
      expect(logs.findLast((l) => l.level === 50)).toMatchObject({ msg: 'config reload failed; still running on the previous configuration', code: 'EL_ERR_CONFIG', fields: [expect.stringMatching(/^users\.1\.password: /)] });
      expect((await login('ops')).json().error).toBe('EL_ERR_NO_SEGMENT');
      expect(services.switchNode!.hostedSegments()).toEqual(['lab']);

      (bad.get('users') as YAMLSeq).delete(1);
      writeFileSync(file, bad.toString());
      expect(reloader.reload('signal')).toBe('ok');
      expect(services.switchNode!.hostedSegments()).toEqual(['lab', 'ops']);
      // Known now: demo may not join it (before, the segment did not exist).
      expect((await login('ops')).json().error).toBe('EL_ERR_FORBIDDEN');
      expect(logs.findLast((l) => l.msg === 'config reloaded')).toMatchObject({ trigger: 'signal', segmentsAdded: 1, restartNeeded: 0 });
      const metrics = await services.registry.metrics();
      expect(metrics).toContain('el_config_reloads_total{result="ok"} 1');
      expect(metrics).toContain('el_config_reloads_total{result="error"} 1');
      // The same file again from the watch: nothing to do, nothing logged or counted.
      const lines = logs.length;
      expect(reloader.reload('watch')).toBe('unchanged');
      expect(logs.length).toBe(lines);

      // A misspelt live setting fails the reload (named), rather than being ignored.
      const typo = parseDocument(readFileSync(file, 'utf8'));
      typo.setIn(['segments', 0, 'macAgeingSeconds'], 60);
      writeFileSync(file, typo.toString());
      expect(reloader.reload('signal')).toBe('error');
      expect(logs.findLast((l) => l.level === 50)).toMatchObject({
        code: 'EL_ERR_CONFIG',
        fields: ['segments.0.macAgeingSeconds: unknown key "macAgeingSeconds" in segment "lab" (did you mean "macAgingSeconds"?)'],
      });
    } finally {
      reloader.stop();
      await services.stop('test');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('swaps the trunks\' cluster CA, certificate and key live (signal and file watch); a key of another certificate or a CA that does not parse fails naming the field and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elink-reloader-trunk-'));
    const file = join(dir, 'elink.yaml');
    await initState(dir);
    const [oldCa, newCa] = [await createCertificateAuthority('old'), await createCertificateAuthority('new')];
    const [oldCert, newCert] = [await issueNodeCertificate(oldCa, 'sw-r'), await issueNodeCertificate(newCa, 'sw-r')];
    const put = (ca: string, c: { certPem: string; keyPem: string }, key = c.keyPem): void => {
      writeFileSync(join(dir, 'trunk-ca.pem'), ca);
      writeFileSync(join(dir, 'trunk.pem'), c.certPem);
      writeFileSync(join(dir, 'trunk-key.pem'), key);
    };
    put(oldCa.certPem, oldCert);
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.setIn(['switch', 'listen'], doc.createNode({ host: '127.0.0.1', port: 0 }));
    doc.setIn(['switch', 'drainSeconds'], 0);
    doc.setIn(['switch', 'trunk'], doc.createNode({ host: '127.0.0.1', port: 0, ca: 'trunk-ca.pem', cert: 'trunk.pem', key: 'trunk-key.pem' }));
    doc.setIn(['admin'], doc.createNode({ host: '127.0.0.1', port: 0 }));
    writeFileSync(file, doc.toString());
    const { logs, services, reloader } = await serve(file, 20);
    const hub = services.switchNode!.trunks!;
    const keyOf = (ca: { certPem: string }) => `ca:${new X509Certificate(ca.certPem).fingerprint256}`;
    try {
      expect(hub.proofKey).toBe(keyOf(oldCa));
      for (const [ca, key, field] of [[newCa.certPem, oldCert.keyPem, 'switch.trunk.key'], ['not a CA', newCert.keyPem, 'switch.trunk.ca']] as const) {
        put(ca, newCert, key);
        expect(reloader.reload('signal')).toBe('error');
        expect(logs.findLast((l) => l.level === 50)).toMatchObject({ msg: 'config reload failed; still running on the previous configuration', code: 'EL_ERR_TRUNK_CERT', err: expect.stringContaining(field) });
        expect(hub.proofKey).toBe(keyOf(oldCa));
      }
      // A bundle of both CAs and a certificate of the new one.
      put(oldCa.certPem + newCa.certPem, newCert);
      expect(reloader.reload('signal')).toBe('ok');
      expect(logs.findLast((l) => l.msg === 'config reloaded')).toMatchObject({ trigger: 'signal', trunkTls: true, restartNeeded: 0 });
      expect(hub.proofKey).toBe(keyOf(newCa));
      expect(hub.proofKeys).toEqual([keyOf(oldCa), keyOf(newCa)]);
      // The files' directory is watched: the new CA alone is taken without a signal.
      reloader.watch();
      const lines = logs.length;
      writeFileSync(join(dir, 'trunk-ca.pem'), newCa.certPem);
      const deadline = Date.now() + 5000;
      while (!logs.slice(lines).some((l) => l.msg === 'config reloaded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(logs.slice(lines).find((l) => l.msg === 'config reloaded')).toMatchObject({ trigger: 'watch', trunkTls: true });
      expect(hub.proofKeys).toEqual([keyOf(newCa)]);
      // Trunks without a cluster CA are another kind of authentication: that waits for a restart.
      const off = parseDocument(readFileSync(file, 'utf8'));
      off.setIn(['switch', 'trunk'], off.createNode({ host: '127.0.0.1', port: 0, secret: 'a-trunk-secret-of-16+' }));
      writeFileSync(file, off.toString());
      expect(reloader.reload('signal')).toBe('ok');
      expect(logs.findLast((l) => l.level === 40)).toMatchObject({ restartNeeded: ['switch.trunk.secret', 'switch.trunk.ca'] });
      expect(hub.proofKeys).toEqual([keyOf(newCa)]);
    } finally {
      reloader.stop();
      await services.stop('test');
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("moves a switch on the trunk secret onto a cluster CA and off it by reloads (requireCert: false between), refusing requireCert: false without a secret", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elink-reloader-trunk-onto-'));
    const file = join(dir, 'elink.yaml');
    await initState(dir);
    const ca = await createCertificateAuthority('cluster');
    const cert = await issueNodeCertificate(ca, 'sw-r');
    writeFileSync(join(dir, 'trunk-ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'trunk.pem'), cert.certPem);
    writeFileSync(join(dir, 'trunk-key.pem'), cert.keyPem);
    const secret = 'a-trunk-secret-of-16+';
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.setIn(['switch', 'listen'], doc.createNode({ host: '127.0.0.1', port: 0 }));
    doc.setIn(['switch', 'drainSeconds'], 0);
    doc.setIn(['switch', 'trunk'], doc.createNode({ host: '127.0.0.1', port: 0, secret }));
    doc.setIn(['admin'], doc.createNode({ host: '127.0.0.1', port: 0 }));
    writeFileSync(file, doc.toString());
    const { logs, services, reloader } = await serve(file, 20);
    const hub = services.switchNode!.trunks!;
    const trunkAs = (t: Record<string, unknown>): void => {
      const d = parseDocument(readFileSync(file, 'utf8'));
      d.setIn(['switch', 'trunk'], d.createNode({ host: '127.0.0.1', port: 0, ...t }));
      writeFileSync(file, d.toString());
    };
    const files = { ca: 'trunk-ca.pem', cert: 'trunk.pem', key: 'trunk-key.pem' };
    try {
      expect(hub.trust).toEqual({ clusterCa: false, requireCert: true });
      trunkAs({ secret, ...files, requireCert: false });
      expect(reloader.reload('signal')).toBe('ok');
      expect(logs.findLast((l) => l.msg === 'config reloaded')).toMatchObject({ trunkTls: true, restartNeeded: 0 });
      expect(hub.trust).toEqual({ clusterCa: true, requireCert: false });
      trunkAs({ secret, ...files });
      expect(reloader.reload('signal')).toBe('ok');
      expect(hub.trust).toEqual({ clusterCa: true, requireCert: true });
      // Without a secret, requireCert: false is refused by the schema, naming the field.
      trunkAs({ ...files, requireCert: false });
      expect(reloader.reload('signal')).toBe('error');
      expect(logs.findLast((l) => l.level === 50)).toMatchObject({ code: 'EL_ERR_CONFIG', fields: [expect.stringMatching(/^switch\.trunk\.requireCert: /)] });
      expect(hub.trust).toEqual({ clusterCa: true, requireCert: true });
      // Off again in one reload: back to the secret alone.
      trunkAs({ secret });
      expect(reloader.reload('signal')).toBe('ok');
      expect(hub.trust).toEqual({ clusterCa: false, requireCert: true });
      expect(logs.some((l) => String(l.msg).startsWith('trunk cluster CA removed'))).toBe(true);
      expect(logs.filter((l) => l.level === 40 && l.restartNeeded)).toEqual([]);
    } finally {
      reloader.stop();
      await services.stop('test');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
