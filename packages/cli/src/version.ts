/**
 * The version of this `elink`: the cli package's version, read from its package.json
 * (next to dist/ in the repository and in an installed package alike).
 */
import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION = readVersion();

/** What `software` says in a switch's welcome (docs/protocol.md §4.2). */
export const SOFTWARE = `elink/${VERSION}`;

/** `elink --version`: this program's version and the Node.js running it. */
export function versionLine(): string {
  return `elink ${VERSION} (node ${process.version})`;
}

/** el_build_info{version,node} 1: which build a process runs, for dashboards and alerts. */
export function registerBuildInfo(registry: Registry): void {
  const g = new Gauge({ name: 'el_build_info', help: 'Always 1; the labels say which elink version and Node.js this process runs.', labelNames: ['version', 'node'] as const, registers: [registry] });
  g.set({ version: VERSION, node: process.version }, 1);
}
