/** `elink trunk-ca`: a CA and node certificates that a trunk accepts, written safely. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trunkCaCommand } from './trunk-ca.js';

const dirs: string[] = [];
afterEach(() => {
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  vi.restoreAllMocks();
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'elink-trunk-ca-'));
  dirs.push(d);
  return d;
}

/** Runs the command with its output captured. */
async function run(...argv: string[]): Promise<string> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  await trunkCaCommand(argv);
  vi.restoreAllMocks();
  return lines.join('\n');
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe('elink trunk-ca', () => {
  it('init makes a CA (key 0600); issue makes a node certificate of it naming the node, for server and client use', async () => {
    const d = tmp();
    const ca = join(d, 'ca');
    await run('init', '--dir', ca);
    expect(mode(join(ca, 'ca-key.pem'))).toBe(0o600);
    const caCert = new X509Certificate(readFileSync(join(ca, 'ca.pem')));
    expect(caCert.ca).toBe(true);

    const out = join(d, 'node');
    const said = await run('issue', '--dir', ca, '--node', 'sw-0.east', '--out', out);
    expect(said).toContain(`cert: ${join(out, 'sw-0.east.pem')}`);
    expect(mode(join(out, 'sw-0.east-key.pem'))).toBe(0o600);
    const cert = new X509Certificate(readFileSync(join(out, 'sw-0.east.pem')));
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:sw-0.east');
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(join(out, 'sw-0.east-key.pem'))))).toBe(true);
  });

  it('refuses to overwrite without --force, writing nothing; --force replaces, the key staying 0600', async () => {
    const d = tmp();
    await run('init', '--dir', d);
    const first = readFileSync(join(d, 'ca.pem'), 'utf8');
    await expect(run('init', '--dir', d)).rejects.toMatchObject({ code: 'EL_ERR_INVALID', message: expect.stringContaining('exist: a CA exists there; pass --force') });
    expect(readFileSync(join(d, 'ca.pem'), 'utf8')).toBe(first);

    // One of the pair there: the other is not written either.
    writeFileSync(join(d, 'sw-1-key.pem'), 'old');
    await expect(run('issue', '--dir', d, '--node', 'sw-1')).rejects.toMatchObject({ code: 'EL_ERR_INVALID', message: expect.stringContaining(`${join(d, 'sw-1-key.pem')} exists: pass --force`) });
    expect(existsSync(join(d, 'sw-1.pem'))).toBe(false);

    chmodSync(join(d, 'sw-1-key.pem'), 0o644);
    await run('issue', '--dir', d, '--node', 'sw-1', '--force');
    expect(mode(join(d, 'sw-1-key.pem'))).toBe(0o600);
    expect(readFileSync(join(d, 'sw-1-key.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');

    await run('init', '--dir', d, '--force');
    expect(readFileSync(join(d, 'ca.pem'), 'utf8')).not.toBe(first);
    expect(mode(join(d, 'ca-key.pem'))).toBe(0o600);
  });

  it('refuses a missing CA, a node id no certificate can name, a key of another CA, and bad usage (EL_ERR_INVALID)', async () => {
    const d = tmp();
    await expect(run('issue', '--dir', d, '--node', 'sw-0')).rejects.toMatchObject({ code: 'EL_ERR_INVALID', message: expect.stringMatching(/^no cluster CA in .*: make one with `elink trunk-ca init --dir /) });
    await run('init', '--dir', d);
    for (const bad of ['', 'sw-', '.sw', 'sw/0', 'sw 0', 'a,b', 'x'.repeat(65)])
      await expect(run('issue', '--dir', d, '--node', bad), bad).rejects.toMatchObject({ code: 'EL_ERR_INVALID', message: expect.stringContaining('is not a node id a certificate can name') });

    const other = tmp();
    await run('init', '--dir', other);
    writeFileSync(join(d, 'ca-key.pem'), readFileSync(join(other, 'ca-key.pem')));
    await expect(run('issue', '--dir', d, '--node', 'sw-0')).rejects.toMatchObject({ code: 'EL_ERR_INVALID', message: expect.stringContaining(`ca-key.pem is not the key of ${join(d, 'ca.pem')}`) });
    expect(existsSync(join(d, 'sw-0.pem'))).toBe(false);

    await expect(run('issue', '--node', 'sw-0')).rejects.toMatchObject({ code: 'EL_ERR_INVALID', message: expect.stringContaining('needs --dir DIR') });
    await expect(run('issue', '--dir', d)).rejects.toMatchObject({ code: 'EL_ERR_INVALID', message: expect.stringContaining('needs --node NODE_ID') });
    await expect(run('renew', '--dir', d)).rejects.toMatchObject({ code: 'EL_ERR_INVALID', message: 'unknown action "renew" (init, issue)' });
    expect(await run('--help')).toMatch(/^elink trunk-ca /);
  });
});
