/**
 * `elink connect` stops on a permanent failure, with its exit status and a hint, instead
 * of retrying forever; real processes in network namespaces against `elink up`:
 * two clients with one user and device (the older exits, status 7, the newer works, and
 * they do not fight); a stale (frozen) client's session taken over, the stale one exiting
 * when it wakes; a CA that did not issue the server's certificate, or none (status 3);
 * a wrong password (status 4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificateAuthority } from '@elink/pki';
import { createUnderlay, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, elink, stopAll, type Proc } from './lib/processes.js';
import { startServer, type TestServer } from './lib/server.js';
import { pingEach } from './lib/ping.js';

const enabled = requireNetnsOrSkip();
const measure = (what: string, ms: number) => {
  if (process.env.ELINK_MEASURE) console.log(`${what}: ${ms.toFixed(0)} ms`);
};

/** The exit status, or 'running' if the process has not exited within `ms`. */
function exitWithin(p: Proc, ms: number): Promise<number | null | 'running'> {
  return Promise.race([p.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), ms).unref())]);
}

const output = (p: Proc) => p.text.join('\n');

describe.skipIf(!enabled)('elink connect exits on permanent failures (root, network namespaces)', () => {
  let underlay: Underlay;
  let server: TestServer;
  const ns = (name: string) => underlay.hosts.get(name)!.ns;
  /** A third client on the segment, with a device id of its own: the one the others ping. */
  let peerV4: string;

  const connect = (host: string, args: string[]) => elink(['connect', '--ifname', 'el0', ...args], { ns: ns(host) });
  const alice = (device: string) => [...server.connectArgs('alice'), '--device', device];
  const ping = (host: string) => pingEach(ns(host), peerV4, 3);

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    server = await startServer({ gateway: underlay.gateway, segments: [], users: [{ name: 'alice', segment: 'lab' }] });
    for (const h of ['peer', 'a', 'b', 'c', 'd', 'e']) underlay.addHost(h);
    const peer = connect('peer', alice('peer'));
    const up = await peer.waitFor((l) => l.msg === 'link up', 30_000, 'peer link up');
    peerV4 = String(up.ipv4).split('/')[0];
    // Both ends name their build, for support requests.
    expect(up.software).toMatch(/^elink\/\d+\.\d+\.\d+/);
    expect((await peer.waitFor((l) => l.msg === 'elink connect starting', 1000, 'start line')).version).toMatch(/^\d+\.\d+\.\d+/);
  });

  afterAll(async () => {
    await stopAll();
    underlay?.destroy();
    server?.destroy();
  });

  it("elink up's connect line names --device, and says why", () => {
    const banner = server.proc.text.join('\n');
    expect(banner).toMatch(/--segment lab --device <name>/);
    expect(banner).toContain('A second client with the same user and device');
  });

  it('two clients with the same user and device: the first exits with status 7 naming --device, the second keeps working', async () => {
    const first = connect('a', alice('twin'));
    await first.waitFor((l) => l.msg === 'link up', 30_000, 'first link up');
    const superseded = await server.metric('el_switch_sessions_closed_total', { reason: 'superseded' });

    const second = connect('b', alice('twin'));
    await second.waitFor((l) => l.msg === 'link up', 30_000, 'second link up');
    const t0 = performance.now();
    const status = await exitWithin(first, 10_000);
    measure('superseded client exited after the other came up', performance.now() - t0);
    expect(status).toBe(7);
    expect(output(first)).toMatch(/EL_ERR_SUPERSEDED: another client logged in as user "alice" with the same device id "twin"/);
    expect(output(first)).toMatch(/give each client its own --device NAME.*\(exit status 7\)/);

    // No fight: the second stays up, and the switch superseded exactly one session.
    expect(await ping('b')).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    await new Promise((r) => setTimeout(r, 3000));
    expect(second.logs.filter((l) => l.msg === 'link up')).toHaveLength(1);
    expect(second.logs.filter((l) => l.msg === 'link down')).toHaveLength(0);
    expect(second.child.exitCode).toBeNull();
    expect(await server.metric('el_switch_sessions_closed_total', { reason: 'superseded' })).toBe(superseded + 1);
    expect(await ping('b')).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    await second.stop();
  });

  it('a client restarted while its old session is half-open takes it over; the stale one, woken, exits with status 7', async () => {
    const stale = connect('c', alice('phoenix'));
    await stale.waitFor((l) => l.msg === 'link up', 30_000, 'stale link up');
    // Frozen: its TCP connection stays open but nothing is read or sent, as after a crash
    // the kernel has not noticed yet.
    stale.child.kill('SIGSTOP');
    const fresh = connect('d', alice('phoenix'));
    await fresh.waitFor((l) => l.msg === 'link up', 30_000, 'fresh link up');
    expect(await ping('d')).toEqual({ transmitted: 3, received: 3, unanswered: [] });

    stale.child.kill('SIGCONT');
    expect(await exitWithin(stale, 10_000)).toBe(7);
    expect(output(stale)).toMatch(/EL_ERR_SUPERSEDED/);
    // Told "superseded", it stopped instead of taking the session back.
    expect(stale.logs.filter((l) => l.msg === 'link up')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 2000));
    expect(fresh.logs.filter((l) => l.msg === 'link down')).toHaveLength(0);
    expect(await ping('d')).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    await fresh.stop();
  });

  it('a CA that did not issue the server certificate: exits with status 3 within seconds, naming --ca and what was expected', async () => {
    // Another `elink init`'s CA: the same name as the server's, another key.
    const wrong = await createCertificateAuthority();
    const wrongCa = join(server.state, 'wrong-ca.pem');
    writeFileSync(wrongCa, wrong.certPem);
    const args = alice('e').map((a) => (a.endsWith('ca.pem') ? wrongCa : a));
    const t0 = performance.now();
    const client = connect('e', args);
    const status = await exitWithin(client, 10_000);
    measure('wrong --ca: exit after', performance.now() - t0);
    expect(status).toBe(3);
    const out = output(client);
    expect(out).toMatch(/EL_ERR_CERTIFICATE: broker at 198\.18\.\d+\.1:\d+ presented a certificate that is not trusted/);
    expect(out).toContain('issued by CN=Emotion Link CA (another CA of the same name: the given CA did not sign it)');
    expect(out).toContain('expected one issued by the given CA (CN=Emotion Link CA)');
    expect(out).toMatch(/--ca must name the CA certificate .*\(exit status 3\)/);
    // It gave up without a retry.
    expect(client.logs.filter((l) => l.msg === 'reconnecting after backoff')).toHaveLength(0);
  });

  it('no --ca (the system CAs do not know the server CA): exits with status 3 saying no CA was given', async () => {
    const args = alice('e').filter((a, i, all) => a !== '--ca' && all[i - 1] !== '--ca');
    const client = connect('e', args);
    expect(await exitWithin(client, 10_000)).toBe(3);
    expect(output(client)).toContain("expected one issued by one of the system's CAs (no CA was given)");
  });

  it('a broker address its certificate does not name: exits with status 3, pointing at the address used, not at --ca', async () => {
    // 127.0.0.2 reaches the server (it listens on every address) but is not in its certificate.
    const args = alice('e').map((a) => (a.startsWith('https://') ? a.replace(/\/\/[\d.]+:/, '//127.0.0.2:') : a));
    const client = elink(['connect', '--ifname', 'el0', ...args]);
    expect(await exitWithin(client, 10_000)).toBe(3);
    const out = output(client);
    expect(out).toMatch(/EL_ERR_CERTIFICATE: broker at 127\.0\.0\.2:\d+ presented a certificate that is not trusted \(ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(out).toContain('expected one that names 127.0.0.2');
    expect(out).toMatch(/connect by a name or address the certificate holds: in --broker .*\(exit status 3\)/);
    expect(out).not.toContain('--ca must name');
  });

  it('a wrong password: exits with status 4 and EL_ERR_AUTH, naming --password-file', async () => {
    const pw = join(server.state, 'wrong-pw');
    writeFileSync(pw, 'not the password\n');
    const args = alice('e').map((a) => (a.endsWith('/pw') ? pw : a));
    const t0 = performance.now();
    const client = connect('e', args);
    const status = await exitWithin(client, 10_000);
    measure('wrong password: exit after', performance.now() - t0);
    expect(status).toBe(4);
    expect(output(client)).toMatch(/EL_ERR_AUTH: broker: /);
    expect(output(client)).toMatch(/--password-file.*\(exit status 4\)/);
  });
});
