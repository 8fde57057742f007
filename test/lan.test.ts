/**
 * Reaching LAN servers, end to end on real kernels. `elink up` runs in its own
 * namespace ("srv", a switch host) next to a Linux bridge that is the LAN; a "LAN
 * server" namespace hangs off that bridge and serves HTTP.
 *   - L2: the segment's TAP bridge port (bridge: {tap, attach}) joins the bridge; a
 *     client of the L2 segment fetches from the server by its LAN address.
 *   - L3: the segment's uplink TUN; the switch host's kernel routes between it and the
 *     LAN; a client of the L3 segment fetches through it.
 *   - `elink bridge`: a separate process attaches a second LAN's bridge to a segment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createUnderlay, ip, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, elink, stopAll } from './lib/processes.js';
import { startServer, type TestServer } from './lib/server.js';

const enabled = requireNetnsOrSkip();

const LAN_SERVER = '198.19.240.250';
const LAN_ROUTER = '198.19.240.254';

async function fetchFrom(ns: string, url: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let out = '';
  while (Date.now() < deadline) {
    out = sh('curl', ['-s', '-m', '2', url], { ns, allowFail: true });
    if (out.includes('hello from the LAN')) return out;
    await new Promise((r) => setTimeout(r, 300));
  }
  return out;
}

describe.skipIf(!enabled)('LAN servers through a TAP bridge and an L3 uplink (root, network namespaces)', () => {
  let underlay: Underlay;
  let server: TestServer;
  let srv: string;
  let lan: string;
  let lan2: string;
  const web: ChildProcess[] = [];

  function serveHttp(ns: string, dir: string): void {
    sh('sh', ['-c', `mkdir -p ${dir} && echo 'hello from the LAN' > ${dir}/index.html`]);
    web.push(spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', dir], { stdio: 'ignore' }));
  }

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    srv = underlay.addHost('srv').ns;
    const tag = srv.split('-')[0];
    // The LAN: a bridge in the switch host's namespace, the server on a veth.
    sh('ip', ['link', 'add', 'br-lan', 'type', 'bridge'], { ns: srv });
    sh('ip', ['addr', 'add', `${LAN_ROUTER}/24`, 'dev', 'br-lan'], { ns: srv });
    sh('ip', ['link', 'set', 'br-lan', 'up'], { ns: srv });
    sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { ns: srv });
    lan = `${tag}-lan`;
    ip('netns', 'add', lan);
    sh('ip', ['link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lan], { ns: srv });
    sh('ip', ['link', 'set', 'lan0', 'master', 'br-lan', 'up'], { ns: srv });
    sh('ip', ['addr', 'add', `${LAN_SERVER}/24`, 'dev', 'eth0'], { ns: lan });
    sh('ip', ['link', 'set', 'eth0', 'up'], { ns: lan });
    sh('ip', ['link', 'set', 'lo', 'up'], { ns: lan });
    // How the LAN reaches the L3 segment: via the switch host (docs/lan.md; or NAT there).
    sh('ip', ['route', 'add', '198.19.241.0/24', 'via', LAN_ROUTER], { ns: lan });
    serveHttp(lan, `/tmp/${lan}-www`);

    // A second LAN, on a bridge of its own in another namespace, for `elink bridge`.
    lan2 = `${tag}-lan2`;
    const gw2 = underlay.addHost('gw2').ns;
    sh('ip', ['link', 'add', 'br-lan2', 'type', 'bridge'], { ns: gw2 });
    sh('ip', ['link', 'set', 'br-lan2', 'up'], { ns: gw2 });
    ip('netns', 'add', lan2);
    sh('ip', ['link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lan2], { ns: gw2 });
    sh('ip', ['link', 'set', 'lan0', 'master', 'br-lan2', 'up'], { ns: gw2 });
    sh('ip', ['addr', 'add', '198.19.242.250/24', 'dev', 'eth0'], { ns: lan2 });
    sh('ip', ['link', 'set', 'eth0', 'up'], { ns: lan2 });
    sh('ip', ['link', 'set', 'lo', 'up'], { ns: lan2 });
    serveHttp(lan2, `/tmp/${lan2}-www`);

    server = await startServer({
      ns: srv,
      gateway: underlay.hosts.get('srv')!.address,
      segments: [
        { name: 'office', mode: 'l2', ipv4: { pool: '198.19.240.0/24' }, bridge: { tap: 'elbrtap0', attach: 'br-lan' } },
        { name: 'routed', mode: 'l3', ipv4: { pool: '198.19.241.0/24' }, uplink: { tun: 'elup0', routes: ['198.19.240.0/24'] } },
        // The bridged LAN's hosts answer ARP for their own addresses (198.19.242.250):
        // ARP inspection lets the bridge session claim only this range (docs/lan.md).
        { name: 'branch', mode: 'l2', ipv4: { pool: '198.19.242.0/24' }, bridgeRanges: ['198.19.242.128/25'] },
      ],
      users: [
        { name: 'alice', segment: 'office' },
        { name: 'bob', segment: 'routed' },
        { name: 'carol', segment: 'branch' },
        { name: 'gw', segment: 'branch', macs: 4096 },
      ],
    });
    await server.proc.waitFor((l) => l.msg === 'TAP bridge port up', 10_000, 'TAP bridge port');
    await server.proc.waitFor((l) => l.msg === 'uplink port up', 10_000, 'uplink port');
    const gwBridge = elink(['bridge', '--attach', 'br-lan2', ...server.connectArgs('gw'), '--device', 'gw2'], { ns: gw2 });
    await gwBridge.waitFor((l) => l.msg === 'link up', 30_000, 'elink bridge up');
  });

  afterAll(async () => {
    for (const w of web) w.kill();
    await stopAll();
    underlay?.destroy();
    for (const ns of [lan, lan2]) {
      if (!ns) continue;
      ip('netns', 'del', ns);
      rmSync(`/tmp/${ns}-www`, { recursive: true, force: true });
    }
    server?.destroy();
  });

  async function client(name: string, user: string): Promise<string> {
    const { ns } = underlay.addHost(name);
    const c = elink(['connect', ...server.connectArgs(user), '--ifname', 'el0', '--device', name], { ns });
    await c.waitFor((l) => l.msg === 'link up', 30_000, `${name} link up`);
    return ns;
  }

  it('L2: a client of the segment fetches from the LAN server by its LAN address through the TAP bridge port', async () => {
    const ns = await client('l2c', 'alice');
    expect(sh('ip', ['-d', 'link', 'show', 'elbrtap0'], { ns: srv })).toContain('master br-lan');
    expect(await fetchFrom(ns, `http://${LAN_SERVER}/`)).toContain('hello from the LAN');
    // It is one Ethernet: the client learned the server's MAC by ARP.
    expect(sh('ip', ['neigh', 'show', LAN_SERVER], { ns })).toMatch(/lladdr/);
  });

  it('L3: a client of the segment fetches from the LAN server through the uplink; the route was pushed', async () => {
    const ns = await client('l3c', 'bob');
    expect(sh('ip', ['route', 'show', 'dev', 'el0'], { ns })).toContain('198.19.240.0/24');
    expect(await fetchFrom(ns, `http://${LAN_SERVER}/`)).toContain('hello from the LAN');
  });

  it('elink bridge: a client of the segment reaches a server on the bridged LAN', async () => {
    const ns = await client('brc', 'carol');
    expect(await fetchFrom(ns, 'http://198.19.242.250/')).toContain('hello from the LAN');
  });
});
