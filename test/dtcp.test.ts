/**
 * DTCP tunnels end to end on real kernels: `elink up` with a DTCP listener on an L3
 * segment, an EL kernel client, and DTCP clients written for the tests
 * (test/lib/dtcp-client.ts: the DTCP lines, then a TUN + a raw protocol-41 socket, since
 * this kernel has no sit) in network namespaces on the underlay:
 *   host       ping and 10 MB TCP both ways with the EL client; tcpdump sees protocol 41
 *              with the reply's outer addresses, DF and TTL 64
 *   network    the IAD: its delegated prefix routed to a LAN namespace behind it whose host
 *              configures an address by SLAAC from radvd and reaches the EL client
 *   tunnelonly the tunnel only, addressing left to the site: its user's static IPv6 `lan` range is
 *              routed into it; the client configures an address of it, pings and moves 10 MB
 *              both ways with the EL client; a link-local ping reaches the switch end; a source
 *              outside the range is dropped and counted
 * and a spoofed inner source dropped and counted, a tunnel gone with its connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUnderlay, ip, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { pingEach } from './lib/ping.js';
import { assertBuilt, elink, freePort, stopAll } from './lib/processes.js';
import { startServer, type TestServer } from './lib/server.js';
import { tcpStream } from './lib/tcp-stream.js';

const enabled = requireNetnsOrSkip();
const CLIENT = fileURLToPath(new URL('./lib/dtcp-client.ts', import.meta.url));
const SECRET = 'dtcp secret for tests';
const MB10 = 10 * 1024 * 1024;
/** The tunnelonly client's address, from its user's static `lan` range fd00:e1:390::/48. */
const SITE6 = 'fd00:e1:390::5';

interface Tunnel {
  child: ChildProcess;
  ns: string;
  address: string;
  reply: { clientV4: string; serverV4: string; clientV6?: string; serverV6?: string; prefix?: string };
  out: () => string;
}

/** A command in `ns` that does not block this process; stdout + stderr, whatever the status. */
function run(ns: string, cmd: string, args: string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve) => execFile('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: timeoutMs }, (_e, o, e) => resolve(`${o}${e}`)));
}

describe.skipIf(!enabled)('DTCP tunnels (root, network namespaces, user-space 6in4 clients)', () => {
  let underlay: Underlay;
  let server: TestServer;
  let dtcpPort = 0;
  let el = { ns: '', v6: '' };
  const tunnels = new Map<string, Tunnel>();
  const children: ChildProcess[] = [];
  let radvdConf = '';
  let lanNs = '';

  async function dtcpClient(name: string, user: string, type: string, extra: string[] = []): Promise<Tunnel> {
    const host = underlay.addHost(name);
    const pwFile = join(server.state, `${user}.dtcp`);
    writeFileSync(pwFile, `${SECRET}\n`);
    const args = ['netns', 'exec', host.ns, process.execPath, CLIENT, '--server', underlay.gateway, '--port', String(dtcpPort), '--user', user, '--password-file', pwFile, '--type', type, '--mtu', '1400', ...extra];
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!out.includes('"tunnel up"') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const line = out.split('\n').find((l) => l.includes('"tunnel up"'));
    if (!line) throw new Error(`${type} tunnel of ${user} not up: ${out}`);
    const t: Tunnel = { child, ns: host.ns, address: host.address, reply: JSON.parse(line) as Tunnel['reply'], out: () => out };
    tunnels.set(type, t);
    return t;
  }

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    dtcpPort = await freePort();
    server = await startServer({
      gateway: underlay.gateway,
      segments: [
        {
          name: 'six',
          mode: 'l3',
          mtu: 1400,
          ipv4: { pool: '198.19.90.0/24' },
          ipv6: { pool: 'fd00:e1:90::/64' },
          delegation: { ipv6: { pool: 'fd00:e1:190::/48', length: 56 } },
        },
      ],
      users: [
        { name: 'el', segment: 'six' },
        { name: 'phone', segment: 'six', digestSecret: SECRET },
        { name: 'iad', segment: 'six', digestSecret: SECRET },
        // Static ranges: the IPv6 one is its tunnelonly tunnel's, the IPv4 one is not (6in4 carries IPv6).
        { name: 'site', segment: 'six', digestSecret: SECRET, lan: ['fd00:e1:390::/48', '198.19.91.0/24'] },
      ],
      switchConfig: { dtcp: { listen: { host: underlay.gateway, port: dtcpPort }, segment: 'six' } },
    });
    const elHost = underlay.addHost('el');
    const client = elink(['connect', ...server.connectArgs('el'), '--ifname', 'el0', '--device', 'el'], { ns: elHost.ns });
    const up = await client.waitFor((l) => l.msg === 'link up', 30_000, 'EL client link up');
    el = { ns: elHost.ns, v6: String(up.ipv6).split('/')[0] };
    await Promise.all([dtcpClient('phone', 'phone', 'host'), dtcpClient('iad', 'iad', 'network'), dtcpClient('site', 'site', 'tunnelonly', ['--addr', `${SITE6}/64`])]);
  }, 90_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await stopAll();
    if (lanNs) spawn('ip', ['netns', 'del', lanNs]);
    underlay?.destroy();
    server?.destroy();
    if (radvdConf) rmSync(radvdConf, { force: true });
  });

  it('host: the reply names the client and server IPv4 and a /128 pair; ping and 10 MB TCP both ways with an EL client', async () => {
    const t = tunnels.get('host')!;
    expect(t.reply.clientV4).toBe(t.address);
    expect(t.reply.serverV4).toBe(underlay.gateway);
    expect(t.reply.clientV6).toMatch(/^fd00:e1:90:/);
    expect(t.reply.serverV6).toBe('fd00:e1:90::1');
    expect(await pingEach(t.ns, el.v6, 3, ['-6'])).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    expect(await pingEach(el.ns, t.reply.clientV6!, 2, ['-6'])).toEqual({ transmitted: 2, received: 2, unanswered: [] });
    const [sent, got] = await tcpStream(t.ns, el.ns, el.v6, 5001, MB10);
    expect(got).toEqual(sent);
    const [sent2, got2] = await tcpStream(el.ns, t.ns, t.reply.clientV6!, 5002, MB10);
    expect(got2).toEqual(sent2);
    expect(got2.bytes).toBe(MB10);
  });

  it('host: the underlay carries IPv4 protocol 41 between the reply\'s addresses, DF set, TTL 64, as a sit device sends', async () => {
    const t = tunnels.get('host')!;
    const dump = spawn('tcpdump', ['-i', underlay.bridge, '-n', '-v', '-l', '-c', '20', `ip proto 41 and host ${t.address}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    dump.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 500));
    await run(t.ns, 'ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', el.v6]);
    const done = new Promise((r) => dump.once('exit', r));
    setTimeout(() => dump.kill('SIGTERM'), 3000).unref();
    await done;
    // Both directions, outer addresses from the reply, the inner IPv6 packet behind the outer header.
    const esc = (x: string) => x.replace(/[.]/g, '\\.');
    const outer = (from: string, to: string, src6: string, dst6: string) =>
      new RegExp(`ttl 64, id \\d+, offset 0, flags \\[DF\\], proto IPv6 \\(41\\), length \\d+\\)\\s+${esc(from)} > ${esc(to)}: IP6 \\(.*?\\) ${src6} > ${dst6}: `);
    expect(out).toMatch(outer(t.reply.clientV4, t.reply.serverV4, t.reply.clientV6!, el.v6));
    expect(out).toMatch(outer(t.reply.serverV4, t.reply.clientV4, el.v6, t.reply.clientV6!));
  });

  it('network: the IAD routes its delegated prefix to a LAN whose host gets an address by SLAAC and reaches the EL client; 10 MB both ways', async () => {
    const t = tunnels.get('network')!;
    expect(t.reply.prefix).toMatch(/^fd00:e1:190:[0-9a-f:]*\/56$/);
    const net64 = t.reply.prefix!.replace(/::\/56$/, '').split(':').concat(['0', '0', '0']).slice(0, 4).join(':');
    lanNs = `${underlay.bridge.replace(/b$/, '')}-lan`;
    ip('netns', 'add', lanNs);
    sh('ip', ['link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lanNs], { ns: t.ns });
    sh('sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1'], { ns: t.ns });
    sh('ip', ['addr', 'add', `${net64}::1/64`, 'dev', 'lan0', 'nodad'], { ns: t.ns });
    sh('ip', ['link', 'set', 'lan0', 'up'], { ns: t.ns });
    radvdConf = `/tmp/${lanNs}-radvd.conf`;
    writeFileSync(radvdConf, `interface lan0 {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  prefix ${net64}::/64 {\n    AdvOnLink on;\n    AdvAutonomous on;\n  };\n};\n`);
    children.push(spawn('ip', ['netns', 'exec', t.ns, 'radvd', '-n', '-C', radvdConf, '-p', `/tmp/${lanNs}-radvd.pid`, '-m', 'stderr'], { stdio: 'ignore' }));
    sh('sysctl', ['-qw', 'net.ipv6.conf.eth0.accept_dad=0'], { ns: lanNs });
    sh('ip', ['link', 'set', 'lo', 'up'], { ns: lanNs });
    sh('ip', ['link', 'set', 'eth0', 'up'], { ns: lanNs });
    let addr = '';
    const deadline = Date.now() + 20_000;
    while (!addr && Date.now() < deadline) {
      addr = /inet6 (\S+)\//.exec(sh('ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'], { ns: lanNs }))?.[1] ?? '';
      if (!addr) await new Promise((r) => setTimeout(r, 300));
    }
    expect(addr.startsWith(`${net64}:`)).toBe(true);
    expect(await pingEach(lanNs, el.v6, 3, ['-6'])).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    expect(await pingEach(el.ns, addr, 2, ['-6'])).toEqual({ transmitted: 2, received: 2, unanswered: [] });
    // The router itself (its LAN address is in the prefix) moves 10 MB each way with the EL client.
    const [sent, got] = await tcpStream(t.ns, el.ns, el.v6, 5003, MB10);
    expect(got).toEqual(sent);
    const [sent2, got2] = await tcpStream(el.ns, t.ns, `${net64}::1`, 5004, MB10);
    expect(got2).toEqual(sent2);
  });

  it('a spoofed inner source is dropped and counted (src_address)', async () => {
    const t = tunnels.get('host')!;
    const before = await server.metric('el_switch_frames_dropped_total', { reason: 'src_address' });
    sh('ip', ['-6', 'addr', 'add', 'fd00:e1:90::dead/128', 'dev', 'sit0', 'nodad'], { ns: t.ns });
    expect(await run(t.ns, 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '1', '-I', 'fd00:e1:90::dead', el.v6])).toMatch(/ 100% packet loss/);
    expect((await server.metric('el_switch_frames_dropped_total', { reason: 'src_address' })) - before).toBeGreaterThanOrEqual(3);
  });

  it("tunnelonly: the reply names the two IPv4 ends only; the user's static lan range is routed into it: ping and 10 MB TCP both ways with an EL client", async () => {
    const t = tunnels.get('tunnelonly')!;
    expect(t.reply.clientV4).toBe(t.address);
    expect(t.reply.serverV4).toBe(underlay.gateway);
    expect(t.reply.clientV6).toBeUndefined();
    expect(t.reply.prefix).toBeUndefined();
    // The switch, the link's far end, answers a link-local ping (how a sit user checks a tunnel).
    expect(await pingEach(t.ns, `fe80::${t.reply.serverV4}`, 2, ['-6', '-I', 'sit0'])).toEqual({ transmitted: 2, received: 2, unanswered: [] });
    // EL clients are pushed no route to users' static ranges (docs/dtcp.md): this one's host adds it.
    sh('ip', ['-6', 'route', 'replace', 'fd00:e1:390::/48', 'dev', 'el0'], { ns: el.ns });
    expect(await pingEach(t.ns, el.v6, 3, ['-6'])).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    expect(await pingEach(el.ns, SITE6, 2, ['-6'])).toEqual({ transmitted: 2, received: 2, unanswered: [] });
    const [sent, got] = await tcpStream(t.ns, el.ns, el.v6, 5005, MB10);
    expect(got).toEqual(sent);
    const [sent2, got2] = await tcpStream(el.ns, t.ns, SITE6, 5006, MB10);
    expect(got2).toEqual(sent2);
    expect(got2.bytes).toBe(MB10);
  });

  it('tunnelonly: a source outside its static range is dropped and counted (src_address); the tunnel lives as long as its connection', async () => {
    const t = tunnels.get('tunnelonly')!;
    const before = await server.metric('el_switch_frames_dropped_total', { reason: 'src_address' });
    sh('ip', ['-6', 'addr', 'add', 'fd00:e1:90::beef/128', 'dev', 'sit0', 'nodad'], { ns: t.ns });
    expect(await run(t.ns, 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '1', '-I', 'fd00:e1:90::beef', el.v6])).toMatch(/ 100% packet loss/);
    expect((await server.metric('el_switch_frames_dropped_total', { reason: 'src_address' })) - before).toBeGreaterThanOrEqual(3);
    expect(await server.metric('el_switch_6in4_tunnels')).toBe(3);
    t.child.kill('SIGTERM');
    const deadline = Date.now() + 10_000;
    while ((await server.metric('el_switch_6in4_tunnels')) !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await server.metric('el_switch_6in4_tunnels')).toBe(2);
  });
});
