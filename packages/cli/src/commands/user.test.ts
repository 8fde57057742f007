/** `elink user` edits keep the file's layout: block style, comments, one line per hash. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { userCommand } from './user.js';
import { loadConfig } from '../config.js';

const dirs: string[] = [];
afterEach(() => {
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  vi.restoreAllMocks();
});

const ORIGINAL = `# Emotion Link configuration (a comment that must survive)
segments:
  - name: lab
    ipv4:
      pool: 198.19.0.0/16
users:
  # the demo user
  - name: demo
    password: $scrypt$ln=14,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g
    segments:
      - lab
`;

/** A temporary config file (`text`, default ORIGINAL) with a password file `pw` beside it; console.log muted. */
function configFile(text = ORIGINAL): { d: string; file: string } {
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const d = mkdtempSync(join(tmpdir(), 'elink-user-'));
  dirs.push(d);
  const file = join(d, 'elink.yaml');
  writeFileSync(file, text);
  writeFileSync(join(d, 'pw'), 'correct horse battery\n');
  return { d, file };
}

describe('elink user (config file)', () => {
  it('round-trips del of every user and add in block style, with each hash on one line', async () => {
    const { d, file } = configFile();
    const run = (...args: string[]) => userCommand([...args, '--config', file]);

    await run('del', 'demo');
    expect((parseYaml(readFileSync(file, 'utf8')) as { users: unknown[] }).users).toEqual([]);
    await run('add', 'alice', '--password-file', join(d, 'pw'));
    await run('add', 'bob', '--password-file', join(d, 'pw'), '--segment', 'lab');
    await run('passwd', 'alice', '--password-file', join(d, 'pw'));
    const text = readFileSync(file, 'utf8');

    expect(text.startsWith('# Emotion Link configuration (a comment that must survive)\n')).toBe(true);
    // Block style: no flow collections around the users, no folded scalars.
    expect(text).not.toMatch(/[{}]|\[\s*\{/);
    expect(text).toMatch(/^users:\n {2}# the demo user\n {2}- name: alice\n {4}password: \$scrypt\$\S+\n {4}segments:\n {6}- lab\n {2}- name: bob\n/m);
    for (const line of text.split('\n').filter((l) => l.includes('$scrypt$'))) expect(line).toMatch(/^ {4}password: \$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    // And it is still a valid configuration with both users.
    expect(loadConfig(file).config.users.map((u) => u.name)).toEqual(['alice', 'bob']);
    expect((parseYaml(text) as { users: unknown[] }).users).toHaveLength(2);
  });

  it('adds a bridge user with --macs and --lan, and refuses bad values naming the field', async () => {
    const { d, file } = configFile();
    const run = (...args: string[]) => userCommand([...args, '--password-file', join(d, 'pw'), '--config', file]);

    await run('add', 'lan-gw', '--macs', '4096', '--lan', '192.168.1.0/25', '--lan', 'fd00:1::/64');
    expect(loadConfig(file).config.users.find((u) => u.name === 'lan-gw')).toMatchObject({ macs: 4096, lan: ['192.168.1.0/25', 'fd00:1::/64'] });
    await expect(run('add', 'x1', '--macs', 'lots')).rejects.toThrow(/--macs must be a whole number/);
    await expect(run('add', 'x2', '--macs', '70000')).rejects.toThrow(/user: macs:/);
    await expect(run('add', 'x3', '--lan', '192.168.1.1')).rejects.toThrow(/user: lan\.0:/);
    // Nothing was written for the refused ones.
    expect(loadConfig(file).config.users.map((u) => u.name)).toEqual(['demo', 'lan-gw']);
  });

  it('keeps a users list the operator wrote in flow style in flow style', async () => {
    const { d, file } = configFile(ORIGINAL.replace(/users:[\s\S]*$/, `users:\n  - { name: demo, password: "$scrypt$ln=14,r=8,p=1$c2FsdA$aGFzaA", segments: [lab] }\n`));
    await userCommand(['add', 'carol', '--password-file', join(d, 'pw'), '--config', file]);
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('name: carol'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ {2}- \{ name: carol, password: .*\$scrypt\$\S+, segments: \[ lab \] \}$/);
  });
});
