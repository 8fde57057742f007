/**
 * EL over WebSocket through an HTTP CONNECT proxy, end to end (issue 10): the built
 * `elink up`, a real proxy (Debian's tinyproxy, Basic authentication, on the underlay
 * gateway) and kernel clients in network namespaces whose direct path to the broker and
 * the switch is closed (iptables REJECT), so everything they do goes through the proxy:
 *
 * - wa (`--transport ws --proxy URL`) and wb (`--transport ws`, HTTPS_PROXY from the
 *   environment) log in and connect through the proxy; they ping each other over IPv4
 *   and IPv6 and move a TCP stream byte-identical; the proxy's own log shows the
 *   CONNECTs to the broker and the switch, and the switch counts the upgrades.
 * - auto (`--transport auto`, no proxy) sits behind a firewall that resets every TCP
 *   connection to the switch port whose first bytes carry ALPN "el/1" (raw EL) and lets
 *   HTTPS through: it falls back to the WebSocket and pings the others.
 * - A wrong proxy password ends the client with EL_ERR_PROXY_AUTH (exit status 4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnderlay, requireNetnsOrSkip, sh, type Underlay } from './lib/netns.js';
import { assertBuilt, elink, freePort, stopAll, type Proc } from './lib/processes.js';
import { startServer, type TestServer } from './lib/server.js';
import { tcpStream } from './lib/tcp-stream.js';
import { startTinyproxy, type Tinyproxy } from './lib/tinyproxy.js';

const enabled = requireNetnsOrSkip();

interface Host {
  ns: string;
  client: Proc;
  v4: string;
  v6: string;
}

describe.skipIf(!enabled)('EL over WebSocket through an HTTP CONNECT proxy (root, network namespaces, tinyproxy)', () => {
  let underlay: Underlay;
  let server: TestServer;
  let proxy: Tinyproxy;
  let brokerPort: number;
  let switchPort: number;
  const hosts = new Map<string, Host>();
  const host = (n: string): Host => hosts.get(n)!;
  const ping = (from: string, to: string): string => sh('ping', [...(to.includes(':') ? ['-6'] : []), '-c', '3', '-i', '0.2', '-W', '2', to], { ns: host(from).ns, allowFail: true });

  async function connect(name: string, args: string[], firewall: string[][], env: NodeJS.ProcessEnv = {}): Promise<void> {
    const { ns } = underlay.addHost(name);
    for (const rule of firewall) sh('iptables', ['-A', 'OUTPUT', ...rule], { ns });
    const client = elink(['connect', ...server.connectArgs(name), '--ifname', 'el0', '--device', name, ...args], { ns, env });
    const up = await client.waitFor((l) => l.msg === 'link up', 30_000, `${name} link up`);
    hosts.set(name, { ns, client, v4: String(up.ipv4).split('/')[0]!, v6: String(up.ipv6).split('/')[0]! });
  }

  beforeAll(async () => {
    assertBuilt();
    underlay = createUnderlay();
    server = await startServer({
      gateway: underlay.gateway,
      segments: [{ name: 'wsnet', mode: 'l2', ipv4: { pool: '198.19.44.0/24' }, ipv6: { pool: 'fd00:e1:44::/64' } }],
      users: ['wa', 'wb', 'auto', 'bad'].map((name) => ({ name, segment: 'wsnet' })),
    });
    brokerPort = Number(new URL(server.brokerUrl).port);
    switchPort = server.switchPort;
    proxy = await startTinyproxy({ host: underlay.gateway, port: await freePort(), allow: ['198.18.0.0/16'] });
    // No direct path to the broker or the switch: only the proxy's port is open.
    const direct = [['-d', underlay.gateway, '-p', 'tcp', '-m', 'multiport', '--dports', `${brokerPort},${switchPort}`, '-j', 'REJECT', '--reject-with', 'tcp-reset']];
    // Raw EL is reset (ALPN "el/1" in the first bytes of a connection to the switch port); HTTPS passes.
    const httpOnly = [['-d', underlay.gateway, '-p', 'tcp', '--dport', String(switchPort), '-m', 'connbytes', '--connbytes', '0:4096', '--connbytes-dir', 'original', '--connbytes-mode', 'bytes', '-m', 'string', '--string', 'el/1', '--algo', 'bm', '-j', 'REJECT', '--reject-with', 'tcp-reset']];
    await connect('wa', ['--transport', 'ws', '--proxy', proxy.url], direct);
    await connect('wb', ['--transport', 'ws'], direct, { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.invalid,10.0.0.0/8' });
    await connect('auto', ['--transport', 'auto'], httpOnly, { HTTPS_PROXY: '', https_proxy: '' });
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    await proxy?.stop();
    underlay?.destroy();
    server?.destroy();
  });

  it('the proxied clients went through the proxy: its log shows CONNECTs to the broker and the switch, the switch counts the upgrades', async () => {
    const log = proxy.log();
    expect(log).toContain(`CONNECT ${underlay.gateway}:${brokerPort} `);
    expect(log).toContain(`CONNECT ${underlay.gateway}:${switchPort} `);
    expect(log.match(new RegExp(`CONNECT ${underlay.gateway.replaceAll('.', '\\.')}:${switchPort} `, 'g'))!.length).toBeGreaterThanOrEqual(2);
    for (const name of ['wa', 'wb']) {
      const connected = host(name).client.logs.find((l) => l.msg === 'connected');
      expect(connected, name).toMatchObject({ transport: 'ws', proxy: expect.stringContaining(`${underlay.gateway}:${proxy.port}`) });
      expect(String(connected!.proxy)).not.toContain('proxy-pass'); // the password is never logged
    }
    expect(await server.metric('el_switch_websocket_upgrades_total', { result: 'ok' })).toBeGreaterThanOrEqual(3);
    // The switch sees the proxy (on the gateway), not the clients' own addresses.
    const opened = server.proc.logs.filter((l) => l.msg === 'session opened' && (l.user === 'wa' || l.user === 'wb'));
    expect(opened.length).toBe(2);
    for (const o of opened) expect(String(o.peer)).toMatch(new RegExp(`^${underlay.gateway.replaceAll('.', '\\.')}:\\d+$`));
  });

  it('pings over IPv4 and IPv6 both ways between the WebSocket clients', () => {
    for (const [a, b] of [['wa', 'wb'], ['wb', 'wa']] as const) {
      expect(ping(a, host(b).v4)).toMatch(/ 0% packet loss/);
      expect(ping(a, host(b).v6)).toMatch(/ 0% packet loss/);
    }
  });

  it('moves a TCP stream byte-identical over the WebSocket, through the proxy', async () => {
    const [sent, received] = await tcpStream(host('wa').ns, host('wb').ns, host('wb').v4, 5201, 4 * 1024 * 1024);
    expect(received).toEqual(sent);
    expect(received.bytes).toBe(4 * 1024 * 1024);
  });

  it('--transport auto falls back to the WebSocket when raw TLS is reset, and pings the others', () => {
    const auto = host('auto').client;
    expect(auto.logs.some((l) => l.msg === 'switch node unreachable over raw TLS, trying WebSocket' && l.transport === 'tls')).toBe(true);
    expect(auto.logs.find((l) => l.msg === 'connected')).toMatchObject({ transport: 'ws' });
    expect(auto.logs.find((l) => l.msg === 'connected')).not.toHaveProperty('proxy');
    expect(ping('auto', host('wa').v4)).toMatch(/ 0% packet loss/);
    expect(ping('auto', host('wb').v6)).toMatch(/ 0% packet loss/);
  });

  it('a wrong proxy password ends the client with EL_ERR_PROXY_AUTH and exit status 4', async () => {
    const { ns } = underlay.addHost('bad');
    const bad = elink(['connect', ...server.connectArgs('bad'), '--ifname', 'el0', '--device', 'bad', '--transport', 'ws', '--proxy', proxy.badUrl], { ns });
    expect(await bad.exited).toBe(4);
    const said = bad.text.join('\n');
    expect(said).toContain('EL_ERR_PROXY_AUTH');
    expect(said).toContain('--proxy');
    expect(said).not.toContain('wrong-proxy-pass');
    expect(server.proc.logs.some((l) => l.msg === 'session opened' && l.user === 'bad')).toBe(false);
  });
});
