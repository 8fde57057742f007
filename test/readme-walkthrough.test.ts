/**
 * The README's "Five minutes" walkthrough, run as written (in one bash, as a user pastes
 * it), with this run's names substituted so it collides with nothing: bridge, namespaces
 * and veths carry the pid, the underlay gets its own /24, the ports are free ones, and the
 * state directory is a temporary one. It must ping over IPv4 and IPv6, and its clean-up
 * must stop exactly the processes it started (kill by the pids saved from `$!`, no pkill).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBuilt, CLI, freePort } from './lib/processes.js';
import { reapStale, requireNetnsOrSkip } from './lib/netns.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const canRun = requireNetnsOrSkip();
const state = mkdtempSync(join(tmpdir(), 'elink-readme-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

/** The shell blocks of the walkthrough section, in order. */
function walkthrough(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Five minutes'), readme.indexOf('\n## ', readme.indexOf('## Five minutes') + 5));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe.skipIf(!canRun)('README walkthrough', () => {
  it('never uses pkill or killall, and stops what it started by pid', () => {
    const blocks = walkthrough();
    expect(blocks).toHaveLength(2);
    expect(blocks.join('\n')).not.toMatch(/pkill|killall/);
    expect(blocks[1]).toMatch(/^kill \$pids; wait/m);
  });

  it('pings over IPv4 and IPv6 and cleans up only its own processes', async () => {
    assertBuilt();
    reapStale();
    const tag = `elt${process.pid}_w`;
    const net = 250 + (process.pid % 5);
    const [broker, sw, admin] = [await freePort(), await freePort(), await freePort()];
    const edit = (s: string) =>
      s
        .replaceAll('elbr0', `${tag}b`)
        .replaceAll('veth$i', `${tag}v$i`)
        .replace(/host(\$i|1|2)/g, `${tag}h$1`)
        .replaceAll('198.18.0.1', `198.18.${net}.1`)
        .replaceAll(':8443', `:${broker}`)
        .replaceAll('make build', 'true')
        .replaceAll('.elink-state', state)
        .replaceAll('node packages/cli/dist/main.js', `${process.execPath} ${CLI}`)
        .replace(`up --state ${state} &`, `up --state ${state} --switch-port ${sw} --admin-port ${admin} --broker-port ${broker} &`)
        // A loaded 2-core CI machine starts processes more slowly than a laptop.
        .replace(/^sleep 2 /m, 'sleep 5 ')
        .replace(/^sleep 3$/m, 'sleep 8');
    const [setup, cleanup] = walkthrough().map(edit);
    expect(setup).toContain(`${tag}h$i`);
    const script = `${setup}\necho "PIDS:$pids"\n${cleanup}\nfor p in $pids; do kill -0 $p 2>/dev/null && echo "ALIVE:$p"; done\necho DONE\n`;
    // Someone else's process whose command line the old clean-up (`pkill -f 'main.js (connect|up)'`) matched.
    const decoy = spawn('bash', ['-c', 'exec -a "node packages/cli/dist/main.js connect --device decoy" sleep 120'], { stdio: 'ignore' });
    const r = spawnSync('bash', ['-c', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    try {
      expect(r.stdout, out).toContain('DONE');
      const losses = [...r.stdout.matchAll(/(\d+)% packet loss/g)].map((m) => Number(m[1]));
      expect(losses, out).toEqual([0, 0]);
      const pids = /PIDS:\s*([\d ]+)/.exec(r.stdout)?.[1]!.trim().split(/\s+/) ?? [];
      expect(pids).toHaveLength(3);
      expect(r.stdout).not.toContain('ALIVE:');
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(tag);
      expect(spawnSync('pgrep', ['-f', 'main.js (connect|up)'], { encoding: 'utf8' }).stdout.split('\n')).toContain(String(decoy.pid));
      expect(decoy.exitCode).toBeNull();
    } finally {
      decoy.kill('SIGKILL');
      for (const m of r.stdout.matchAll(/PIDS:\s*([\d ]+)/g)) for (const p of m[1]!.trim().split(/\s+/)) spawnSync('kill', ['-9', p]);
      for (const ns of ['1', '2']) spawnSync('ip', ['netns', 'del', `${tag}h${ns}`]);
      spawnSync('ip', ['link', 'del', `${tag}b`]);
    }
  }, 150_000);
});
