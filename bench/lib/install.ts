/** Debian packages the harness needs, installed with apt-get only when missing. */
import { spawnSync } from 'node:child_process';

function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Returns an error message, or undefined when every package is there. */
export function ensurePackages(pkgs: string[]): string | undefined {
  const missing = pkgs.filter((p) => !installed(p));
  if (missing.length === 0) return undefined;
  process.stderr.write(`installing ${missing.join(' ')} …\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { encoding: 'utf8', env, timeout: 600_000 });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8', env, timeout: 300_000 });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { encoding: 'utf8', env, timeout: 600_000 });
  }
  const still = pkgs.filter((p) => !installed(p));
  return still.length ? `could not install ${still.join(' ')}: ${(r.stderr ?? '').slice(-500)}` : undefined;
}
