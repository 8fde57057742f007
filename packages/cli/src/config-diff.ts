/**
 * What a config reload changes: the parts a running process applies live (users, new
 * segments, the log level, TLS file paths) and, named by their path, every other setting that
 * differs and therefore takes effect only after a restart.
 */
import { isDeepStrictEqual } from 'node:util';
import { LIVE_SEGMENT_SETTINGS } from '@elink/switch';
import type { Config } from './config.js';

export interface ServiceKinds {
  broker: boolean;
  switch: boolean;
}

export interface ConfigChanges {
  /** Users of the config file, by name (the broker's only). */
  users: { added: string[]; removed: string[]; changed: string[] };
  /** Segments new in the file (added live; removed ones are in `restart`). */
  segmentsAdded: string[];
  /** Known segments with new live settings (LIVE_SEGMENT_SETTINGS); their other changes are in `restart`. */
  segmentsChanged: string[];
  logLevel?: { from: string; to: string };
  /** tls.cert or tls.key names another file (contents are compared by the reloader). */
  tlsPaths: boolean;
  /** tls.ca or switch.broker.ca names another file (a standalone switch trusts its brokers with it). */
  caPath: boolean;
  /** Settings that differ but apply only after a restart, as dotted paths ("broker.listen.port", "segments.lab.mode"). */
  restart: string[];
}

/** Applied live; everything else that differs is named in `restart`. The trunks' trust too:
 * the cluster CA files, adding or removing the CA, and requireCert (docs/cluster.md). */
export const LIVE_PATHS: ReadonlySet<string> = new Set(['users', 'log.level', 'tls.cert', 'tls.key', 'tls.ca', 'switch.broker.ca', 'switch.trunk.ca', 'switch.trunk.cert', 'switch.trunk.key', 'switch.trunk.requireCert']);

/** Compared as one value: a store of another type has other keys, and "broker.store" says it all. */
const WHOLE = new Set(['broker.store']);

/** Most paths named in one restart line: the log stays readable when a whole file was swapped. */
export const MAX_RESTART_PATHS = 50;

export function diffConfig(prev: Config, next: Config, kinds: ServiceKinds): ConfigChanges {
  const restart: string[] = [];
  const segmentsAdded: string[] = [];
  const segmentsChanged: string[] = [];
  const relevant = (top: string) => !((top === 'broker' || top === 'users') && !kinds.broker) && !(top === 'switch' && !kinds.switch);
  for (const top of new Set([...Object.keys(prev), ...Object.keys(next)])) {
    if (!relevant(top)) continue;
    const a = (prev as Record<string, unknown>)[top];
    const b = (next as Record<string, unknown>)[top];
    if (top === 'segments') segmentPaths(prev.segments, next.segments, restart, segmentsAdded, segmentsChanged);
    else walk(top, a, b, restart);
  }
  const byName = (list: Config['users']) => new Map(list.map((u) => [u.name, u]));
  const before = byName(kinds.broker ? prev.users : []);
  const after = byName(kinds.broker ? next.users : []);
  const users = {
    added: [...after.keys()].filter((n) => !before.has(n)),
    removed: [...before.keys()].filter((n) => !after.has(n)),
    changed: [...after.keys()].filter((n) => before.has(n) && !isDeepStrictEqual(before.get(n), after.get(n))),
  };
  return {
    users,
    segmentsAdded,
    segmentsChanged,
    ...(prev.log.level !== next.log.level ? { logLevel: { from: prev.log.level, to: next.log.level } } : {}),
    tlsPaths: prev.tls.cert !== next.tls.cert || prev.tls.key !== next.tls.key,
    caPath: prev.tls.ca !== next.tls.ca || prev.switch.broker?.ca !== next.switch.broker?.ca,
    restart: restart.length > MAX_RESTART_PATHS ? [...restart.slice(0, MAX_RESTART_PATHS), `… ${restart.length - MAX_RESTART_PATHS} more`] : restart,
  };
}

/** Leaf paths where `a` and `b` differ; arrays (other than segments) count as one value. */
function walk(path: string, a: unknown, b: unknown, out: string[]): void {
  if (LIVE_PATHS.has(path) || isDeepStrictEqual(a, b)) return;
  if (isPlainObject(a) && isPlainObject(b) && !WHOLE.has(path)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(`${path}.${k}`, a[k], b[k], out);
    return;
  }
  out.push(path);
}

/**
 * Segments by name: new ones are added and live settings (keepalive, flood limit, ...)
 * change live; a removed one and each other changed setting wait for a restart (live
 * sessions and leases hang on pools, mode and ports).
 */
function segmentPaths(prev: Config['segments'], next: Config['segments'], out: string[], added: string[], changed: string[]): void {
  const live = new Set<string>(LIVE_SEGMENT_SETTINGS);
  const before = new Map(prev.map((s) => [s.name, s]));
  const after = new Map(next.map((s) => [s.name, s]));
  for (const [name, seg] of after) {
    const old = before.get(name);
    if (!old) added.push(name);
    // Another mode is another kind of segment (other keys): the whole segment waits for a restart.
    else if (old.mode !== seg.mode) out.push(`segments.${name}.mode`);
    else {
      let liveChange = false;
      for (const k of new Set([...Object.keys(old), ...Object.keys(seg)])) {
        const a = (old as Record<string, unknown>)[k];
        const b = (seg as Record<string, unknown>)[k];
        if (live.has(k)) liveChange ||= !isDeepStrictEqual(a, b);
        else walk(`segments.${name}.${k}`, a, b, out);
      }
      if (liveChange) changed.push(name);
    }
  }
  for (const name of before.keys()) if (!after.has(name)) out.push(`segments.${name} (removed)`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short summary for the reload log line: counts, not names of every user. */
export function summarize(c: ConfigChanges, tlsChanged: boolean, caChanged: boolean, trunkTlsChanged = false): Record<string, number | string | boolean> {
  return {
    usersAdded: c.users.added.length,
    usersRemoved: c.users.removed.length,
    usersChanged: c.users.changed.length,
    segmentsAdded: c.segmentsAdded.length,
    segmentsChanged: c.segmentsChanged.length,
    tls: tlsChanged,
    ca: caChanged,
    trunkTls: trunkTlsChanged,
    ...(c.logLevel ? { logLevel: c.logLevel.to } : {}),
    restartNeeded: c.restart.length,
  };
}
