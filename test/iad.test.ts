/**
 * The IAD scenario of the original deployment, end to end on real kernels: a client
 * "router" asks for a delegated IPv6 prefix (elink connect --prefix), advertises a /64
 * of it on its LAN side with radvd, and a "phone" behind it configures an address by
 * SLAAC and pings a host elsewhere in the L3 segment. The switch routes the delegated
 * prefix to the router's session and accepts it as that session's source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { login } from '@elink/client';
import { createUnderlay, ip, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, elink, stopAll } from './lib/processes.js';
import { PASSWORD, startServer, type TestServer } from './lib/server.js';
import { parsePrefix, formatPrefix } from '@elink/switch';

const enabled = requireNetnsOrSkip();

describe.skipIf(!enabled)('IAD: a router with a delegated prefix and a phone behind it (root, network namespaces, radvd)', () => {
  let underlay: Underlay;
  let server: TestServer;
  let phone: string;
  let radvd: ChildProcess | undefined;
  let radvdConf = '';
  let delegated = '';
  let routerNs = '';
  let hostV6 = '';
  let hostNs = '';

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    server = await startServer({
      gateway: underlay.gateway,
      segments: [
        {
          name: 'iad',
          mode: 'l3',
          ipv4: { pool: '198.19.5.0/24' },
          ipv6: { pool: 'fd00:e1:5::/64' },
          delegation: { ipv6: { pool: 'fd00:e1:100::/48', length: 56 } },
        },
      ],
      users: [
        { name: 'iad1', segment: 'iad' },
        { name: 'host', segment: 'iad' },
      ],
    });
    routerNs = underlay.addHost('rtr').ns;
    hostNs = underlay.addHost('host').ns;
    const router = elink(['connect', ...server.connectArgs('iad1'), '--ifname', 'el0', '--device', 'rtr', '--prefix'], { ns: routerNs });
    const host = elink(['connect', ...server.connectArgs('host'), '--ifname', 'el0', '--device', 'host'], { ns: hostNs });
    const [up] = await Promise.all([
      router.waitFor((l) => l.msg === 'link up', 30_000, 'router link up'),
      host.waitFor((l) => l.msg === 'link up', 30_000, 'host link up').then((l) => (hostV6 = String(l.ipv6).split('/')[0])),
    ]);
    delegated = String(up.prefix ?? '');
  });

  afterAll(async () => {
    radvd?.kill();
    await stopAll();
    if (phone) ip('netns', 'del', phone);
    underlay?.destroy();
    server?.destroy();
    if (radvdConf) rmSync(radvdConf, { force: true });
  });

  it('the router gets a sticky /56 from the delegation pool', async () => {
    const p = parsePrefix(delegated)!;
    expect(p.length).toBe(56);
    expect(formatPrefix({ ...p, length: 48 })).toBe(formatPrefix(parsePrefix('fd00:e1:100::/48')!));
    // Logging in again as the same user and device gives the same prefix.
    const again = await login(server.brokerUrl, { user: 'iad1', password: PASSWORD, device: 'rtr', prefix: true }, { ca: readFileSync(join(server.state, 'ca.pem')) });
    expect(again.prefix).toBe(delegated);
  });

  it('a phone behind the router configures an address by SLAAC and pings a host in the segment', async () => {
    // The first /64 of the delegated /56 for the LAN; the router is ::1 on it.
    const net64 = formatPrefix({ ...parsePrefix(delegated)!, length: 64 }).split(':').slice(0, 4).join(':');
    const lan64 = `${net64}::/64`;
    const lanAddr = `${net64}::1/64`;
    phone = `${routerNs.split('-')[0]}-phone`;
    ip('netns', 'add', phone);
    sh('ip', ['link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', phone], { ns: routerNs });
    sh('sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1'], { ns: routerNs });
    sh('ip', ['addr', 'add', lanAddr, 'dev', 'lan0', 'nodad'], { ns: routerNs });
    sh('ip', ['link', 'set', 'lan0', 'up'], { ns: routerNs });
    radvdConf = `/tmp/${phone}-radvd.conf`;
    writeFileSync(radvdConf, `interface lan0 {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  prefix ${lan64} {\n    AdvOnLink on;\n    AdvAutonomous on;\n  };\n};\n`);
    radvd = spawn('ip', ['netns', 'exec', routerNs, 'radvd', '-n', '-C', radvdConf, '-p', `/tmp/${phone}-radvd.pid`, '-m', 'stderr'], { stdio: 'ignore' });
    sh('sysctl', ['-qw', 'net.ipv6.conf.eth0.accept_dad=0'], { ns: phone });
    sh('ip', ['link', 'set', 'lo', 'up'], { ns: phone });
    sh('ip', ['link', 'set', 'eth0', 'up'], { ns: phone });

    // SLAAC: wait (bounded) for a global address from the advertised /64.
    const want = net64;
    let addr = '';
    const deadline = Date.now() + 30_000;
    while (!addr && Date.now() < deadline) {
      const out = sh('ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'], { ns: phone });
      addr = /inet6 (\S+)\//.exec(out)?.[1] ?? '';
      if (!addr) await new Promise((r) => setTimeout(r, 500));
    }
    expect(addr.startsWith(`${want}:`)).toBe(true);
    expect(sh('ip', ['-6', 'route', 'show', 'default'], { ns: phone })).toMatch(/via fe80::/);

    const out = sh('ping', ['-6', '-c', '3', '-i', '0.3', '-W', '2', hostV6], { ns: phone, timeoutMs: 30_000 });
    expect(out).toMatch(/ 0% packet loss/);
    // The host saw the phone's own address (no NAT): routed by the delegated prefix.
    const seen = sh('ping', ['-6', '-c', '1', '-W', '2', addr], { ns: hostNs });
    expect(seen).toMatch(/ 0% packet loss/);
  });
});
