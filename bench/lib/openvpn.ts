/**
 * OpenVPN 2.6 under test: one server, two clients, over TCP, client-to-client in the
 * server process, AES-128-GCM, TCP_NODELAY (server `tcp-nodelay`, pushed to clients),
 * tap or tun. Certificates: a throwaway P-256 CA made with openssl.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemon, must, run, sleep, type Daemon } from './proc.js';
import type { RunningSystem, SystemDef } from './system.js';
import type { Topology } from './topology.js';

function makeCerts(dir: string): void {
  const ossl = (...a: string[]) => must('openssl', a, { timeoutMs: 30_000 });
  const key = (name: string) => ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, `${name}.key`));
  key('ca');
  ossl('req', '-x509', '-new', '-key', join(dir, 'ca.key'), '-subj', '/CN=bench-ca', '-days', '2', '-out', join(dir, 'ca.pem'));
  for (const [name, eku] of [['server', 'serverAuth'], ['client', 'clientAuth']]) {
    key(name);
    ossl('req', '-new', '-key', join(dir, `${name}.key`), '-subj', `/CN=bench-${name}`, '-out', join(dir, `${name}.csr`));
    writeFileSync(join(dir, `${name}.ext`), `extendedKeyUsage=${eku}\nkeyUsage=digitalSignature,keyAgreement\n`);
    ossl('x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', join(dir, `${name}.ext`), '-out', join(dir, `${name}.pem`));
  }
}

export function openvpnSystem(dev: 'tap' | 'tun'): SystemDef {
  return {
    id: `openvpn-${dev}`,
    label: `OpenVPN ${dev}`,
    async start(topo: Topology, work: string): Promise<RunningSystem> {
      makeCerts(work);
      const common = ['--dev-type', dev, '--ca', join(work, 'ca.pem'), '--data-ciphers', 'AES-128-GCM', '--cipher', 'AES-128-GCM', '--verb', '3'];
      const procs: Daemon[] = [];
      const stop = async () => {
        for (const p of procs.reverse()) await p.stop();
      };
      try {
        const server = daemon(
          'openvpn',
          [
            '--dev', 'ovpn0', ...common, '--proto', 'tcp-server', '--local', topo.server.address, '--port', '1194',
            '--server', '198.19.80.0', '255.255.255.0', '--topology', 'subnet', '--client-to-client', '--tcp-nodelay', '--duplicate-cn',
            '--cert', join(work, 'server.pem'), '--key', join(work, 'server.key'), '--dh', 'none', '--keepalive', '10', '60',
          ],
          { ns: topo.server.ns },
        );
        procs.push(server);
        await server.waitFor(/Initialization Sequence Completed/, 30_000, 'openvpn server');
        const addresses: string[] = [];
        for (const c of topo.clients) {
          const client = daemon(
            'openvpn',
            ['--client', '--dev', 'ovpn0', ...common, '--proto', 'tcp-client', '--remote', topo.server.address, '1194', '--nobind', '--remote-cert-tls', 'server', '--cert', join(work, 'client.pem'), '--key', join(work, 'client.key')],
            { ns: c.ns },
          );
          procs.push(client);
          await client.waitFor(/Initialization Sequence Completed/, 30_000, `openvpn client in ${c.ns}`);
          // The pushed address, as the kernel has it.
          let addr = '';
          for (let i = 0; i < 50 && !addr; i++) {
            addr = /inet (198\.19\.80\.\d+)/.exec(run('ip', ['-4', 'addr', 'show', 'ovpn0'], { ns: c.ns }).stdout)?.[1] ?? '';
            if (!addr) await sleep(100);
          }
          if (!addr) throw new Error(`openvpn client in ${c.ns} has no address on ovpn0`);
          addresses.push(addr);
        }
        const version = /OpenVPN (\S+)/.exec(run('openvpn', ['--version']).stdout)?.[1] ?? '?';
        return {
          addresses: [addresses[0], addresses[1]],
          notes: [`OpenVPN ${version}, ${dev}, TCP, client-to-client, AES-128-GCM, tcp-nodelay`],
          stop,
        };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}
