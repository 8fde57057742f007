/**
 * The user-mode stack (@elink/stack) against real kernels: `elink up`, kernel clients
 * (`elink connect`, TAP/TUN) in network namespaces, and library processes that run as
 * user 65534 with no TAP/TUN (setpriv) on the same segments. HTTP both ways with curl and
 * Python's http.server on the kernel side and node:http over the stack on the library
 * side, 10 MB byte-identical over IPv4 and IPv6, UDP both ways, L2 and L3, two library
 * instances with no kernel between them, and a library whose path loses 1 % and adds
 * 10 ms (injected in user space: this kernel has no netem).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useConnectedHosts } from './lib/connected-hosts.js';
import { requireNetnsOrSkip, sh } from './lib/netns.js';
import { pattern, readableCopies, startStackPeer, type StackPeer } from './lib/stack-peer.js';

const enabled = requireNetnsOrSkip();
const MB10 = 10 * 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const SHA10 = sha(pattern(MB10));
const url = (addr: string, port: number, path: string) => `http://${addr.includes(':') ? `[${addr}]` : addr}:${port}${path}`;

describe.skipIf(!enabled)('user-mode stack against kernel hosts (L2, L3, unprivileged library)', () => {
  const env = useConnectedHosts({
    segments: [
      { name: 'us2', mode: 'l2', ipv4: { pool: '198.19.90.0/24' }, ipv6: { pool: 'fd00:e1:90::/64' } },
      { name: 'us3', mode: 'l3', ipv4: { pool: '198.19.91.0/24' }, ipv6: { pool: 'fd00:e1:91::/64' } },
    ],
    users: [
      { name: 'k2', segment: 'us2' },
      { name: 'k3', segment: 'us3' },
      { name: 'lib2', segment: 'us2' },
      { name: 'lib3', segment: 'us3' },
    ],
    hosts: [
      { name: 'k2', user: 'k2' },
      { name: 'k3', user: 'k3' },
    ],
  });
  const peers: StackPeer[] = [];
  const servers: ChildProcess[] = [];
  let files: ReturnType<typeof readableCopies> | undefined;
  let www = '';
  let a2: StackPeer, b2: StackPeer, lossy: StackPeer, a3: StackPeer;

  /** Python's http.server in `ns` on [::]:8000 serving `www` (blob = 10 MB of the pattern). */
  function kernelHttp(ns: string): void {
    const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', '8000', '--bind', '::', '--directory', www], { stdio: 'ignore' });
    servers.push(child);
  }

  /** A UDP echo server in `ns` on port 7000 (both families). */
  function kernelUdpEcho(ns: string): void {
    const py = 'import socket\ns=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\ns.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0)\ns.bind(("::",7000))\nwhile True:\n  d,a=s.recvfrom(65535)\n  s.sendto(d,a)\n';
    servers.push(spawn('ip', ['netns', 'exec', ns, 'python3', '-c', py], { stdio: 'ignore' }));
  }

  beforeAll(async () => {
    www = mkdtempSync(join(tmpdir(), 'elink-stack-www-'));
    chmodSync(www, 0o755);
    writeFileSync(join(www, 'blob'), pattern(MB10));
    writeFileSync(join(www, 'blob2'), pattern(2 * 1024 * 1024));
    files = readableCopies(env.server.state);
    const start = (user: string, device: string, impair?: string) => startStackPeer({ broker: env.server.brokerUrl, ca: files!.ca, pw: files!.pw, user, device, impair });
    [a2, b2, lossy, a3] = await Promise.all([start('lib2', 'a2'), start('lib2', 'b2'), start('lib2', 'lossy', '1,10'), start('lib3', 'a3')]);
    peers.push(a2, b2, lossy, a3);
    await Promise.all([a2.cmd('http-serve', { port: 8080 }), a3.cmd('http-serve', { port: 8080 }), a2.cmd('udp-echo', { port: 9000 }), lossy.cmd('http-serve', { port: 8080 })]);
    kernelHttp(env.host('k2').ns);
    kernelHttp(env.host('k3').ns);
    kernelUdpEcho(env.host('k2').ns);
    // Until Python listens.
    for (const h of ['k2', 'k3']) {
      for (let i = 0; i < 50; i++) {
        if (sh('sh', ['-c', 'ss -ltn | grep -q ":8000 " && echo yes || true'], { ns: env.host(h).ns }).includes('yes')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    for (const s of servers) s.kill('SIGKILL');
    files?.cleanup();
    if (www) rmSync(www, { recursive: true, force: true });
  });

  it('the library processes run as user 65534, with addresses from the switch', () => {
    for (const p of [a2, b2, a3]) {
      expect(p.up.uid).toBe(65534);
      expect(p.up.ipv4).toMatch(/^198\.19\.9[01]\./);
      expect(p.up.ipv6).toMatch(/^fd00:e1:9[01]:/);
    }
    expect(a2.up.mode).toBe('l2');
    expect(a3.up.mode).toBe('l3');
  });

  for (const seg of ['L2', 'L3'] as const) {
    for (const fam of ['ipv4', 'ipv6'] as const) {
      it(`${seg} ${fam}: curl on a kernel host downloads and uploads 10 MB from node:http on the library, byte-identical`, async () => {
        const lib = seg === 'L2' ? a2 : a3;
        const ns = env.host(seg === 'L2' ? 'k2' : 'k3').ns;
        const got = sh('sh', ['-c', `curl -sS -g -m 60 ${url(lib.up[fam], 8080, `/bytes/${MB10}`)} | sha256sum`], { ns, timeoutMs: 70_000 });
        expect(got.split(' ')[0]).toBe(SHA10);
        // The library's segments left coalesced as super-frames (FRAME_GSO), and the kernel took them.
        const { stats } = (await lib.cmd('memory')) as { stats: { superFramesOut: number } };
        expect(stats.superFramesOut).toBeGreaterThan(0);
        const up = JSON.parse(sh('curl', ['-sS', '-g', '-m', '60', '--data-binary', `@${join(www, 'blob')}`, '-H', 'content-type: application/octet-stream', url(lib.up[fam], 8080, '/sha')], { ns, timeoutMs: 70_000 })) as { sha: string; length: number };
        expect(up).toEqual({ sha: SHA10, length: MB10 });
      });

      it(`${seg} ${fam}: the library's node:http client fetches 10 MB from a kernel host's http.server, byte-identical`, async () => {
        const lib = seg === 'L2' ? a2 : a3;
        const host = env.host(seg === 'L2' ? 'k2' : 'k3');
        const r = await lib.cmd('fetch', { url: url(fam === 'ipv4' ? host.v4 : host.v6, 8000, '/blob') });
        expect(r).toMatchObject({ status: 200, length: MB10, sha: SHA10 });
        // The kernel client's TSO super-frames came as they were (FRAME_GSO), segmented here.
        const { stats } = (await lib.cmd('memory')) as { stats: { superFramesIn: number } };
        expect(stats.superFramesIn).toBeGreaterThan(0);
      });
    }
  }

  it('UDP: a kernel host pings the library echo (IPv4, IPv6); the library pings a kernel echo', async () => {
    const k2 = env.host('k2');
    for (const addr of [a2.up.ipv4, a2.up.ipv6]) {
      const py = `import socket,sys\nf=socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET\ns=socket.socket(f,socket.SOCK_DGRAM)\ns.settimeout(1)\nfor i in range(5):\n  s.sendto(b"hello udp",(sys.argv[1],9000))\n  try:\n    print(s.recvfrom(100)[0].decode()); break\n  except socket.timeout: pass\n`;
      expect(sh('python3', ['-c', py, addr], { ns: k2.ns }).trim()).toBe('hello udp');
    }
    for (const host of [k2.v4, k2.v6]) {
      const r = await a2.cmd('udp-ping', { host, port: 7000, text: `from the library to ${host}` });
      expect(r.text).toBe(`from the library to ${host}`);
    }
  });

  it('two library instances through the switch, no kernel between them: 10 MB each way (IPv4, IPv6)', async () => {
    const down = await b2.cmd('fetch', { url: url(a2.up.ipv6, 8080, `/bytes/${MB10}`) });
    expect(down).toMatchObject({ status: 200, length: MB10, sha: SHA10 });
    const up = await b2.cmd('fetch', { url: url(a2.up.ipv4, 8080, '/sha'), post: MB10 });
    expect(JSON.parse(String(up.text))).toEqual({ sha: SHA10, length: MB10 });
  });

  it('1 % loss and 10 ms delay (with reordering) on the library path: 2 MB each way, byte-exact', async () => {
    const MB2 = 2 * 1024 * 1024;
    const k2 = env.host('k2');
    const r = await lossy.cmd('fetch', { url: url(k2.v4, 8000, '/blob2') }, 90_000);
    expect(r).toMatchObject({ status: 200, length: MB2, sha: sha(pattern(MB2)) });
    const up = JSON.parse(sh('sh', ['-c', `head -c ${MB2} ${join(www, 'blob')} | curl -sS -g -m 60 --data-binary @- ${url(lossy.up.ipv6, 8080, '/sha')}`], { ns: k2.ns, timeoutMs: 70_000 })) as { sha: string; length: number };
    expect(up).toEqual({ sha: sha(pattern(MB2)), length: MB2 });
    // The loss was real: frames were dropped on the way, TCP made up for them.
    expect(Number((await lossy.cmd('memory')).impairedDrops)).toBeGreaterThan(10);
  });

  it('a lost session: the stack reconnects, keeps its addresses, and its server answers again', async () => {
    const before = Number((await a3.cmd('memory')).sessions);
    // Kill the library processes' TCP connections to the switch (client side, root
    // namespace: the kernel clients' live in their own namespaces).
    sh('ss', ['-K', 'dst', env.underlay.gateway, 'dport', '=', String(env.server.switchPort)]);
    const deadline = Date.now() + 20_000;
    while (Number((await a3.cmd('memory')).sessions) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(Number((await a3.cmd('memory')).sessions)).toBe(before + 1);
    // The same server object, listening since before the loss, answers over the new session.
    const k3 = env.host('k3');
    const want = sha(pattern(1 << 20));
    let got = '';
    while (Date.now() < deadline) {
      got = sh('sh', ['-c', `curl -sS -g -m 3 ${url(a3.up.ipv4, 8080, `/bytes/${1 << 20}`)} | sha256sum`], { ns: k3.ns, allowFail: true }).split(' ')[0];
      if (got === want) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(got).toBe(want);
  });
});
