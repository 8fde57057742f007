/**
 * SoftEther VPN 5.01 under test: a VPN Server with one Virtual Hub in the server's
 * namespace and a real SoftEther VPN Client in each client's, one TCP connection per
 * session (QoS off: with it SoftEther opens ≥ 2), UDP acceleration off, static
 * addresses on the clients' vpn_se0 TAP devices.
 *
 * Debian's build hard-codes /var/lib/softether, /run/softether and /var/log/softether,
 * so each instance gets its own directories, bind-mounted inside the mount namespace
 * that `ip netns exec` creates. vpncmd busy-loops when it prompts on a closed stdin, so
 * it reads /IN: files, with stdin from /dev/null and a timeout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemon, must, run, sleep, type Daemon } from './proc.js';
import type { RunningSystem, SystemDef } from './system.js';
import type { Topology } from './topology.js';

const DIRS = ['/var/lib/softether', '/run/softether', '/var/log/softether'];
const PASSWORD = 'bench-pw';
const SUBNET = '198.19.90';

/** Starts `exe execsvc` in `ns` with its own copies of SoftEther's fixed directories. */
function instance(ns: string, dir: string, exe: string): Daemon {
  const mounts = DIRS.map((d, i) => {
    const own = join(dir, String(i));
    mkdirSync(own, { recursive: true });
    mkdirSync(d, { recursive: true });
    return `mount --bind ${own} ${d}`;
  });
  return daemon('sh', ['-c', `${mounts.join(' && ')} && exec ${exe} execsvc`], { ns });
}

function killSoftEther(ns: string): void {
  for (const line of run('ip', ['netns', 'pids', ns]).stdout.split('\n')) {
    const pid = Number(line.trim());
    if (!pid) continue;
    try {
      if (/^vpn(server|client)/.test(readFileSync(`/proc/${pid}/comm`, 'utf8'))) process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Runs vpncmd with the given commands; returns its output; throws on failure. */
function vpncmd(ns: string, dir: string, target: string[], commands: string[], name: string): string {
  const file = join(dir, `${name}.in`);
  writeFileSync(file, commands.join('\n') + '\n');
  const r = run('vpncmd', [...target, `/IN:${file}`], { ns, timeoutMs: 30_000 });
  if (r.status !== 0) throw new Error(`vpncmd ${target.join(' ')} (${name}) failed (${r.status}): ${r.stdout.slice(-1500)} ${r.stderr}`);
  return r.stdout;
}

/** Retries `f` (bounded) while the service starts. */
async function retry<T>(f: () => T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return f();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(300);
    }
  }
}

export function softetherSystem(): SystemDef {
  return {
    id: 'softether',
    label: 'SoftEther',
    async start(topo: Topology, work: string): Promise<RunningSystem> {
      const procs: Daemon[] = [];
      // execsvc leaves its wrapper behind: end what runs in the namespaces by pid.
      const stop = async () => {
        for (const p of procs.reverse()) await p.stop();
        for (const ns of [topo.server.ns, ...topo.clients.map((c) => c.ns)]) killSoftEther(ns);
      };
      const notes: string[] = [];
      try {
        const srvDir = join(work, 'server');
        procs.push(instance(topo.server.ns, srvDir, '/usr/libexec/softether/vpnserver/vpnserver'));
        const admin = ['localhost:5555', '/SERVER'];
        const about = await retry(() => vpncmd(topo.server.ns, srvDir, admin, ['ServerInfoGet'], 'info'), 20_000);
        const version = /Version[^\n|]*\|([^\n]+)/.exec(about)?.[1]?.trim() ?? '5.01';
        vpncmd(
          topo.server.ns,
          srvDir,
          admin,
          [
            `HubCreate BENCH /PASSWORD:${PASSWORD}`,
            'Hub BENCH',
            ...['u1', 'u2'].flatMap((u) => [`UserCreate ${u} /GROUP:none /REALNAME:none /NOTE:none`, `UserPasswordSet ${u} /PASSWORD:${PASSWORD}`]),
          ],
          'hub',
        );
        // UDP acceleration is turned off per client account (AccountDetailSet /DISABLEUDP:yes):
        // the hub's ExtOptionSet DisableUdpAcceleration hung here.
        notes.push(`SoftEther VPN Server ${version}`);

        const addresses: string[] = [];
        for (const [i, c] of topo.clients.entries()) {
          const dir = join(work, c.name);
          procs.push(instance(c.ns, dir, '/usr/libexec/softether/vpnclient/vpnclient'));
          const mgmt = ['localhost', '/CLIENT'];
          await retry(() => vpncmd(c.ns, dir, mgmt, ['VersionGet'], 'version'), 20_000);
          vpncmd(
            c.ns,
            dir,
            mgmt,
            [
              'NicCreate se0',
              `AccountCreate bench /SERVER:${topo.server.address}:5555 /HUB:BENCH /USERNAME:u${i + 1} /NICNAME:se0`,
              `AccountPasswordSet bench /PASSWORD:${PASSWORD} /TYPE:standard`,
              // /DISABLEUDP: UDP acceleration off (without it vpncmd prompts for it and
              // takes the next line of the file as the answer).
              'AccountDetailSet bench /MAXTCP:1 /INTERVAL:1 /TTL:0 /HALF:no /BRIDGE:no /MONITOR:no /NOTRACK:no /NOQOS:yes /DISABLEUDP:yes',
              'AccountConnect bench',
            ],
            'account',
          );
          const status = await retry(() => {
            const s = vpncmd(c.ns, dir, mgmt, ['AccountStatusGet bench'], 'status');
            if (!/Session Established/i.test(s)) throw new Error(`SoftEther client in ${c.ns} not connected: ${s.slice(-800)}`);
            return s;
          }, 30_000);
          // Say what the session really uses: the comparison is only fair over one TCP connection.
          const udpLine = [...status.matchAll(/UDP Acceleration[^\n]*\|[^\n]*/gi)].map((m) => m[0].replace(/\s+/g, ' ')).join(', ') || undefined;
          const tcpLine = /Number of TCP Connections[^\n]*\|[^\n]*/i.exec(status)?.[0]?.replace(/\s+/g, ' ');
          notes.push(`client ${i + 1}: ${udpLine ?? 'UDP acceleration: not reported'}; ${tcpLine ?? 'TCP connections: not reported'}`);
          const address = `${SUBNET}.${11 + i}`;
          must('ip', ['addr', 'add', `${address}/24`, 'dev', 'vpn_se0'], { ns: c.ns });
          must('ip', ['link', 'set', 'vpn_se0', 'up'], { ns: c.ns });
          addresses.push(address);
        }
        notes.push('two SoftEther VPN Clients, one Virtual Hub, one TCP connection per session (/MAXTCP:1), QoS off (/NOQOS:yes), UDP acceleration off (/DISABLEUDP:yes)');
        return { addresses: [addresses[0], addresses[1]], notes, stop };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}
