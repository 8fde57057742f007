/**
 * The `elink` command as a user meets it, with the built CLI in real processes (issue 13,
 * "small lies" and "missing basics"): every command's --help, --version, errors that name
 * their source (environment variable, busy port), the connect line for a specific listen
 * address, `elink config check`, and the all-in-one Kubernetes manifest's ELINK_ADVERTISE
 * reaching the server certificate (verified as a client does, by name, over TLS).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { assertBuilt, CLI, elink, stopAll } from './lib/processes.js';

assertBuilt();
const dirs: string[] = [];
const servers: Server[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'elink-basics-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await stopAll();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function run(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PORTS = ['--broker-port', '0', '--switch-port', '0', '--admin-port', '0'];

describe('elink help and version', () => {
  const commands = ['up', 'init', 'broker', 'switch', 'connect', 'bridge', 'proxy', 'user', 'reload', 'status', 'sessions', 'kick', 'trunks', 'trunk-ca', 'admin', 'revoke', 'config'];
  it.each(commands)('elink %s --help answers with its own usage', (cmd) => {
    const r = run([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^elink ${cmd} `));
  });

  it('every server command lists only the flags it takes, and refuses the others', () => {
    const all = ['--broker-port', '--switch-port', '--admin-port', '--advertise', '--node-id', '--listen-host', '--log-level'];
    const own: Record<string, string[]> = { up: all, broker: ['--broker-port', '--admin-port', '--listen-host', '--log-level'], switch: ['--switch-port', '--admin-port', '--advertise', '--node-id', '--listen-host', '--log-level'] };
    for (const [cmd, flags] of Object.entries(own)) {
      const help = run([cmd, '--help']).stdout;
      for (const flag of all) {
        expect(help.includes(flag), `${cmd} --help and ${flag}`).toBe(flags.includes(flag));
        if (!flags.includes(flag)) {
          const r = run([cmd, flag, '1']);
          expect(r.status, `${cmd} ${flag}`).toBe(2);
          expect(r.stderr).toContain(`EL_ERR_INVALID: Unknown option '${flag}'`);
        }
      }
    }
  });

  it('elink --help names every command; --version prints the package version and Node.js', () => {
    const help = run(['--help']).stdout;
    for (const cmd of commands) expect(help).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../packages/cli/package.json', import.meta.url)), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = run([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`elink ${pkg.version} (node ${process.version})\n`);
    }
  });
});

describe('elink trunk-ca', () => {
  it('makes a CA and a node certificate as files; refuses a missing CA, a bad node id and an existing file (exit 2)', () => {
    const dir = tmp();
    const noCa = run(['trunk-ca', 'issue', '--dir', dir, '--node', 'sw-0']);
    expect(noCa.status).toBe(2);
    expect(noCa.stderr).toMatch(/^elink: EL_ERR_INVALID: no cluster CA in .*: make one with `elink trunk-ca init --dir /);
    expect(run(['trunk-ca', 'init', '--dir', dir]).status).toBe(0);
    const issued = run(['trunk-ca', 'issue', '--dir', dir, '--node', 'sw-0']);
    expect(issued.status, issued.stderr).toBe(0);
    expect(issued.stdout).toContain(`      cert: ${join(dir, 'sw-0.pem')}\n      key: ${join(dir, 'sw-0-key.pem')}`);
    expect(issued.stdout).toContain('add `requireCert: false` there too until every node has its certificate');
    expect(new X509Certificate(readFileSync(join(dir, 'sw-0.pem'))).subjectAltName).toBe('DNS:sw-0');
    const again = run(['trunk-ca', 'issue', '--dir', dir, '--node', 'sw-0']);
    expect(again.status).toBe(2);
    expect(again.stderr).toBe(`elink: EL_ERR_INVALID: ${join(dir, 'sw-0.pem')} and ${join(dir, 'sw-0-key.pem')} exist: pass --force to replace them\n`);
    const bad = run(['trunk-ca', 'issue', '--dir', dir, '--node', 'sw/0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('EL_ERR_INVALID: --node "sw/0" is not a node id a certificate can name');
  });
});

describe('errors that name their source', () => {
  it('blames a bad ELINK_BROKER_PORT on the variable, not the file', () => {
    const r = run(['up', '--state', tmp()], { ELINK_BROKER_PORT: 'abc' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('elink: EL_ERR_CONFIG: the environment variable ELINK_BROKER_PORT must be a port number 0-65535, got "abc"\n');
    const level = run(['up', '--state', tmp()], { ELINK_LOG_LEVEL: 'loud' });
    expect(level.status).toBe(1);
    expect(level.stderr).toMatch(/not in .*elink\.yaml: the values come from the environment or the command line\):\n {2}log\.level: .*\(set by the environment variable ELINK_LOG_LEVEL\)/);
  });

  it('names the flag, variable and key of a busy port (EL_ERR_LISTEN)', async () => {
    const holder = createServer();
    servers.push(holder);
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as { port: number }).port;
    const p = elink(['up', '--state', tmp(), '--listen-host', '127.0.0.1', '--switch-port', '0', '--admin-port', '0', '--broker-port', String(port)]);
    expect(await p.exited).toBe(1);
    expect(p.text.join('\n')).toContain(`elink: EL_ERR_LISTEN: cannot listen on 127.0.0.1:${port} for the broker (HTTPS) listener (EADDRINUSE): another process holds the port. Stop it, or choose another port with --broker-port, ELINK_BROKER_PORT or broker.listen.port`);
  });
});

describe('elink up', () => {
  it('prints a connect line for the address it listens on, logs its version, and that address answers', async () => {
    const state = tmp();
    const p = elink(['up', '--state', state, '--listen-host', '127.0.0.7', ...PORTS]);
    const started = await p.waitFor((l) => l.msg === 'emotion link started', 30_000, 'start');
    expect(started).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), node: process.version });
    const port = (started.endpoints as { broker: { port: number } }).broker.port;
    await waitText(p.text, 'elink connect');
    expect(p.text.join('\n')).toContain(`elink connect --broker https://127.0.0.7:${port} --ca ${join(state, 'ca.pem')}`);
    expect(await verifiedTls('127.0.0.7', port, readFileSync(join(state, 'ca.pem')), 'localhost')).toBe(true);
  });
});

describe('elink config check', () => {
  it('prints the effective configuration with secrets redacted (exit 0), or every problem (exit 1)', () => {
    const state = tmp();
    expect(run(['init', '--state', state]).status).toBe(0);
    writeFileSync(join(state, 'token'), 'an-admin-token-from-a-file-0123\n');
    const ok = run(['config', 'check', '--state', state], { ELINK_ADMIN_TOKEN_FILE: join(state, 'token'), ELINK_BROKER_PORT: '9443' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^# .*elink\.yaml: valid\./);
    expect(ok.stdout).toContain('adminToken: (redacted)');
    expect(ok.stdout).toMatch(/password: \(redacted\)/);
    expect(ok.stdout).toMatch(/listen:\n {4}host: 0\.0\.0\.0\n {4}port: 9443/);
    expect(ok.stdout).not.toContain('an-admin-token-from-a-file');
    expect(ok.stdout).not.toContain('$scrypt$');

    const bad = join(state, 'bad.yaml');
    writeFileSync(bad, 'segments:\n  - { name: phones, mode: l3, ipv4: { pool: 198.19.1.0/24 } }\n  - { name: iads, mode: l3, ipv4: { pool: 198.19.0.0/16 } }\n  - { name: lab, ipv4: { pool: 198.19.0.0/16 } }\nusers:\n  - { name: x, password: nope, segments: [lab] }\n');
    const r = run(['config', 'check', '--config', bad]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`elink: EL_ERR_CONFIG: invalid configuration in ${bad}:`);
    expect(r.stderr).toContain('L3 segments "phones" (ipv4.pool 198.19.1.0/24) and "iads" (ipv4.pool 198.19.0.0/16) overlap');
    expect(r.stderr).toContain('users.0.password: must be a hash from `elink user add`');
  });

  it('refuses unknown keys, naming the nearest known one, and an L2 key in an L3 segment (exit 1); its own output has only known keys', () => {
    const state = tmp();
    expect(run(['init', '--state', state]).status).toBe(0);
    const typo = join(state, 'typo.yaml');
    writeFileSync(typo, 'switch: { drainSecond: 30 }\nsegments:\n  - { name: core, mode: l3, ipv4: { pool: 198.19.1.0/24 }, floodLimit: { rate: 10 } }\n');
    const r = run(['config', 'check', '--config', typo]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`elink: EL_ERR_CONFIG: invalid configuration in ${typo}:`);
    expect(r.stderr).toContain('switch.drainSecond: unknown key "drainSecond" in switch (did you mean "drainSeconds"?)');
    expect(r.stderr).toContain('segments.0.floodLimit: unknown key "floodLimit" in segment "core": "floodLimit" is a key of L2 segments and this segment is mode: l3');
    // Every key of the effective configuration it prints (all defaults filled in) is a known
    // one: checked again, only the redacted secrets are refused.
    const ok = run(['config', 'check', '--state', state]);
    expect(ok.status).toBe(0);
    const effective = join(state, 'effective.yaml');
    writeFileSync(effective, ok.stdout);
    const again = run(['config', 'check', '--config', effective]);
    const problems = again.stderr.split('\n').filter((l) => l.startsWith('  '));
    expect(problems.length).toBeGreaterThan(0);
    for (const line of problems) expect(line).toMatch(/^ {2}users\.\d+\.password: must be a hash/);
  });
});

describe('the all-in-one Kubernetes manifest', () => {
  it('gives outside clients a certificate with ELINK_ADVERTISE, re-issuing one on an existing volume from the same CA', async () => {
    const manifest = fileURLToPath(new URL('../k8s/all-in-one/statefulset.yaml', import.meta.url));
    const set = parseAllDocuments(readFileSync(manifest, 'utf8'))[0]!.toJS() as { spec: { template: { spec: { containers: Array<{ args: string[]; env: Array<{ name: string; value: string }> }> } } } };
    const container = set.spec.template.spec.containers[0]!;
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    const advertised = env.ELINK_ADVERTISE!;
    expect(advertised).toBeTruthy();
    // The volume as a previous release left it: a certificate without the advertised name.
    const state = tmp();
    expect(run(['init', '--state', state]).status).toBe(0);
    const before = new X509Certificate(readFileSync(join(state, 'server.pem')));
    expect(before.checkHost(advertised)).toBeUndefined();
    const args = container.args.map((a, i, all) => (all[i - 1] === '--state' ? state : a));
    const p = elink([...args, '--listen-host', '127.0.0.1', ...PORTS], { env });
    const started = await p.waitFor((l) => l.msg === 'emotion link started', 30_000, 'start');
    expect(p.logs.some((l) => l.msg === 'server certificate re-issued to name every address of this host and the advertised name')).toBe(true);
    const port = (started.endpoints as { broker: { port: number } }).broker.port;
    // What curl --resolve vpn.example.net:PORT:127.0.0.1 --cacert ca.pem does.
    expect(await verifiedTls('127.0.0.1', port, readFileSync(join(state, 'ca.pem')), advertised)).toBe(true);
    expect(await verifiedTls('127.0.0.1', port, readFileSync(join(state, 'ca.pem')), 'not-advertised.example')).toBe(false);
    // Re-issued from the same CA: clients keep their ca.pem.
    expect(new X509Certificate(readFileSync(join(state, 'server.pem'))).checkIssued(new X509Certificate(readFileSync(join(state, 'ca.pem'))))).toBe(true);
    expect(readFileSync(join(state, 'server.pem'), 'utf8')).not.toBe(before.toString());
    await p.stop();
    // A fresh volume gets the name at once.
    const fresh = tmp();
    const q = elink([...container.args.map((a, i, all) => (all[i - 1] === '--state' ? fresh : a)), '--listen-host', '127.0.0.1', ...PORTS], { env });
    await q.waitFor((l) => l.msg === 'emotion link started', 30_000, 'start');
    expect(new X509Certificate(readFileSync(join(fresh, 'server.pem'))).checkHost(advertised)).toBe(advertised);
    expect(q.logs.some((l) => /re-issued/.test(String(l.msg)))).toBe(false);
  });
});

/** Whether a TLS client trusting `ca` accepts the server at host:port under `name`. */
function verifiedTls(host: string, port: number, ca: Buffer, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host, port, ca, servername: name, ALPNProtocols: ['http/1.1'] }, () => {
      s.end();
      resolve(s.authorized);
    });
    s.on('error', () => resolve(false));
    s.setTimeout(10_000, () => s.destroy());
  });
}

async function waitText(text: string[], needle: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!text.some((t) => t.includes(needle))) {
    if (Date.now() > end) throw new Error(`no "${needle}" in output:\n${text.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
