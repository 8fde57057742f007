/**
 * Pid files of running servers in the state directory (`elink-up.pid`, `elink-broker.pid`,
 * `elink-switch.pid`; a plain number, as systemd's PIDFile= expects): `elink reload`
 * signals them, and `elink user` tells whether a running server picks up its change.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVER_KINDS = ['up', 'broker', 'switch'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export function pidFilePath(stateDir: string, kind: ServerKind): string {
  return join(stateDir, `elink-${kind}.pid`);
}

/** Writes this process's pid; the returned function removes the file if it is still ours. */
export function writePidFile(stateDir: string, kind: ServerKind): () => void {
  const file = pidFilePath(stateDir, kind);
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
    } catch {
      /* already gone */
    }
  };
}

export interface RunningServer {
  kind: ServerKind;
  pid: number;
}

/**
 * Servers whose pid file names a live elink process of that kind. A stale file (the
 * process died without removing it, or its pid went to another program) is ignored, so
 * a signal never reaches a stranger.
 */
export function runningServers(stateDir: string): RunningServer[] {
  const found: RunningServer[] = [];
  for (const kind of SERVER_KINDS) {
    let pid: number;
    try {
      pid = Number(readFileSync(pidFilePath(stateDir, kind), 'utf8').trim());
    } catch {
      continue;
    }
    if (!Number.isInteger(pid) || pid <= 1) continue;
    if (isElinkServer(pid, kind)) found.push({ kind, pid });
  }
  return found;
}

function isElinkServer(pid: number, kind: ServerKind): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    // `node …/cli/dist/main.js up …` or an installed `elink up …`.
    return argv.includes(kind) && argv.some((a) => /(^|\/)(elink|main\.js)$/.test(a));
  } catch {
    return false;
  }
}
