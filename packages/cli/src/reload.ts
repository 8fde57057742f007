/**
 * Config reload of a running server (SIGHUP, a change of the config file or of a TLS
 * file, `elink reload`): reads and validates the file again and applies what can change
 * live — users, new segments, TLS certificate/key/CA, the trunks' cluster CA/certificate/key,
 * the log level. Everything else that differs is
 * named in one "restart needed for: …" warning. A file that does not validate is logged
 * with every field and the process keeps running on what it has: a reload never stops it.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { parsePasswordHash } from '@elink/broker';
import { ElError } from '@elink/protocol';
import { checkTrunkTrust, trunkCredentials, withLiveSettings, type TrunkCredentials } from '@elink/switch';
import type { Config, LoadedConfig } from './config.js';
import { diffConfig, summarize, type ServiceKinds } from './config-diff.js';
import type { Services } from './services.js';

export type ReloadTrigger = 'signal' | 'watch';
export type ReloadResult = 'ok' | 'error' | 'unchanged';

export interface ReloaderOptions {
  /** The config as the process started with it (env and flags applied). */
  current: LoadedConfig;
  /** Reads the file again with the same env and flag overrides. */
  load: () => LoadedConfig;
  services: Pick<Services, 'setUsers' | 'endSessions' | 'addSegments' | 'updateSegments' | 'setTls' | 'setBrokerCa' | 'setTrunkCredentials' | 'tls'>;
  kinds: ServiceKinds;
  logger: Logger;
  registry: Registry;
  /** Quiet time after the last file event before reloading (editors write in several steps). Default 300. */
  debounceMs?: number;
}

/** Most user names in one log line (the counts are always complete). */
const MAX_NAMES = 20;

export class ConfigReloader {
  readonly #opts: ReloaderOptions;
  /** What runs now: the start config with the live parts of each good reload applied. */
  #running: Config;
  #path: (p: string) => string;
  #ca: Buffer | undefined;
  /** The trunks' cluster CA files the switch runs with (undefined: no cluster CA). */
  #trunk: TrunkFiles | undefined;
  /** The switch runs trunks (switch.trunk at start; adding them takes a restart). */
  readonly #trunks: boolean;
  /** switch.trunk.requireCert as it runs. */
  #requireCert: boolean;
  /** The secret trunks run with ('' for none): changing it takes a restart. */
  readonly #trunkSecret: string;
  #lastRestart = '';
  #watchers: FSWatcher[] = [];
  #watchedDirs = '';
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #watchOn = false;
  readonly #reloads: Counter<'result'>;
  readonly #lastSuccess: Gauge;

  constructor(opts: ReloaderOptions) {
    this.#opts = opts;
    this.#running = structuredClone(opts.current.config);
    this.#path = opts.current.path;
    this.#ca = this.#readCa(opts.current.config, opts.current.path);
    this.#trunk = this.#readTrunk(opts.current.config, opts.current.path);
    const sw = opts.current.config.switch;
    this.#trunks = opts.kinds.switch && sw.trunk !== undefined;
    this.#requireCert = sw.trunk?.requireCert ?? true;
    this.#trunkSecret = sw.trunk?.secret ?? sw.broker?.clusterSecret ?? '';
    this.#reloads = new Counter({ name: 'el_config_reloads_total', help: 'Config reloads (SIGHUP, file change, elink reload) by result: ok, error (the file did not validate; the old config stays)', labelNames: ['result'], registers: [opts.registry] });
    for (const result of ['ok', 'error']) this.#reloads.inc({ result }, 0);
    this.#lastSuccess = new Gauge({ name: 'el_config_last_reload_success_timestamp_seconds', help: 'When the config was last loaded successfully (start or reload), seconds since the epoch', registers: [opts.registry] });
    this.#lastSuccess.set(Date.now() / 1000);
  }

  /**
   * Reads the config again and applies it, synchronously (so two reloads never overlap).
   * A watch event that changed nothing is dropped quietly ('unchanged'); a signal always
   * logs its result. Everything is checked before anything is applied.
   */
  reload(trigger: ReloadTrigger): ReloadResult {
    const { logger, services, kinds } = this.#opts;
    let next: LoadedConfig;
    let tls: { cert: Buffer; key: Buffer };
    let ca: Buffer | undefined;
    let trunk: TrunkFiles | undefined;
    let trunkNext: { credentials: TrunkCredentials | undefined; requireCert: boolean } | undefined;
    let trustWaits: string | undefined;
    let endedSessions = 0;
    try {
      next = this.#opts.load();
      tls = { cert: readTls(next.path(next.config.tls.cert), 'tls.cert'), key: readTls(next.path(next.config.tls.key), 'tls.key') };
      ca = this.#readCa(next.config, next.path);
      // The trunks' trust: the CA's files, a CA added or removed, requireCert. Built and
      // checked here, so a bad file or a trust the secret cannot carry changes nothing.
      const nextTrunk = next.config.switch.trunk;
      if (this.#trunks && nextTrunk) {
        trunk = this.#readTrunk(next.config, next.path);
        const filesChanged = trunk === undefined ? this.#trunk !== undefined : this.#trunk === undefined || !sameTrunkFiles(trunk, this.#trunk);
        if (filesChanged || nextTrunk.requireCert !== this.#requireCert) {
          trunkNext = { credentials: trunk && trunkCredentials(trunk), requireCert: nextTrunk.requireCert };
          // A trust that needs a secret set or changed in the same file (a restart setting):
          // it waits for that restart too, named with it; the rest of the file applies.
          const nextSecret = nextTrunk.secret ?? next.config.switch.broker?.clusterSecret ?? '';
          try {
            checkTrunkTrust(this.#trunkSecret, trunkNext.credentials, trunkNext.requireCert);
          } catch (err) {
            if (nextSecret === this.#trunkSecret) throw err;
            trustWaits = (this.#trunk === undefined) !== (trunk === undefined) ? 'switch.trunk.ca' : 'switch.trunk.requireCert';
            trunkNext = undefined;
            trunk = this.#trunk;
          }
        }
      }
      next.config.users.forEach((u, i) => checkHash(next.file, i, u.password));
      // Check the new pair before anything changes, so a bad key leaves everything as it was.
      if (!tls.cert.equals(services.tls.cert) || !tls.key.equals(services.tls.key)) tlsContext(tls);
    } catch (err) {
      return this.#failed(trigger, err);
    }
    const changes = diffConfig(this.#running, next.config, kinds);
    if (trustWaits) changes.restart.push(trustWaits);
    const tlsChanged = !tls.cert.equals(services.tls.cert) || !tls.key.equals(services.tls.key);
    const caChanged = ca !== undefined && (this.#ca === undefined || !ca.equals(this.#ca));
    const usersChanged = changes.users.added.length + changes.users.removed.length + changes.users.changed.length > 0;
    const restartKey = changes.restart.join('\n');
    const added = next.config.segments.filter((s) => changes.segmentsAdded.includes(s.name));
    // Only the live settings of a known segment change; pools, mode and ports stay as they run.
    const updated = this.#running.segments.filter((s) => changes.segmentsChanged.includes(s.name)).map((s) => withLiveSettings(s, next.config.segments.find((n) => n.name === s.name)!));
    const trunkChanged = trunkNext !== undefined;
    if (trigger === 'watch' && !usersChanged && added.length === 0 && updated.length === 0 && !tlsChanged && !caChanged && !trunkChanged && !changes.logLevel && restartKey === this.#lastRestart) {
      logger.debug({ config: next.file }, 'config file event without changes');
      return 'unchanged';
    }
    try {
      // Segments before users: a new user may name a new segment.
      if (added.length) {
        services.addSegments(added);
        this.#running = { ...this.#running, segments: [...this.#running.segments, ...added] };
      }
      if (updated.length) {
        services.updateSegments(updated);
        this.#running = { ...this.#running, segments: this.#running.segments.map((s) => updated.find((u) => u.name === s.name) ?? s) };
      }
      if (usersChanged) services.setUsers(next.config.users);
      if (usersChanged) endedSessions = services.endSessions(lostAccess(this.#running.users, next.config.users), 'user removed or no longer in this segment');
      if (tlsChanged) services.setTls(tls);
      if (trunkNext) services.setTrunkCredentials(trunkNext.credentials, trunkNext.requireCert);
    } catch (err) {
      return this.#failed(trigger, err);
    }
    if (caChanged) services.setBrokerCa(ca!);
    if (changes.logLevel) logger.level = changes.logLevel.to;
    this.#running = { ...this.#running, users: next.config.users, log: next.config.log, tls: next.config.tls };
    this.#path = next.path;
    this.#ca = ca;
    if (trunkNext) {
      this.#trunk = trunk;
      this.#requireCert = trunkNext.requireCert;
    }
    this.#lastRestart = restartKey;
    this.#reloads.inc({ result: 'ok' });
    this.#lastSuccess.set(Date.now() / 1000);
    const names = (list: string[]) => (list.length > MAX_NAMES ? [...list.slice(0, MAX_NAMES), `… ${list.length - MAX_NAMES} more`] : list);
    logger.info(
      { trigger, config: next.file, ...summarize(changes, tlsChanged, caChanged, trunkChanged), ...(endedSessions ? { sessionsEnded: endedSessions } : {}), ...(usersChanged ? { users: { added: names(changes.users.added), removed: names(changes.users.removed), changed: names(changes.users.changed) } } : {}) },
      'config reloaded',
    );
    if (changes.restart.length) logger.warn({ restartNeeded: changes.restart }, `restart needed for: ${changes.restart.join(', ')}`);
    this.#rewatch();
    return 'ok';
  }

  #failed(trigger: ReloadTrigger, err: unknown): ReloadResult {
    const e = err instanceof ElError ? err : new ElError('EL_ERR_CONFIG', (err as Error)?.message ?? String(err));
    // Every field of a schema error is on its own "  path: message" line of the message.
    const fields = e.message.startsWith('invalid configuration') ? e.message.split('\n').filter((l) => /^  \S+: /.test(l)).map((l) => l.trim()) : [];
    this.#reloads.inc({ result: 'error' });
    this.#opts.logger.error({ trigger, code: e.code, err: e.message, ...(fields.length ? { fields } : {}) }, 'config reload failed; still running on the previous configuration');
    return 'error';
  }

  /** The CA a standalone switch trusts its brokers with; undefined when the process has none to change. */
  #readCa(config: Config, path: (p: string) => string): Buffer | undefined {
    const link = config.switch.broker;
    if (!this.#opts.kinds.switch || this.#opts.kinds.broker || !link) return undefined;
    return readTls(path(link.ca ?? config.tls.ca), link.ca ? 'switch.broker.ca' : 'tls.ca');
  }

  /** The trunks' cluster CA, certificate and key of a switch with `switch.trunk.ca`. */
  #readTrunk(config: Config, path: (p: string) => string): TrunkFiles | undefined {
    const t = config.switch.trunk;
    if (!this.#opts.kinds.switch || t?.ca === undefined) return undefined;
    const paths = { ca: path(t.ca), cert: path(t.cert!), key: path(t.key!) };
    return { paths, ca: readTls(paths.ca, 'switch.trunk.ca'), cert: readTls(paths.cert, 'switch.trunk.cert'), key: readTls(paths.key, 'switch.trunk.key') };
  }

  /**
   * Reloads after the config file or a TLS file changes. Watches their directories, not
   * the files: editors, `elink user add` and Kubernetes secret updates replace a file by
   * renaming another one over it, which a watch on the old file never sees.
   */
  watch(): void {
    this.#watchOn = true;
    this.#rewatch();
  }

  #rewatch(): void {
    if (this.#stopped || !this.#watchOn) return;
    const config = this.#opts.current.file;
    const files = [config, this.#path(this.#running.tls.cert), this.#path(this.#running.tls.key)];
    const link = this.#running.switch.broker;
    if (link && this.#opts.kinds.switch && !this.#opts.kinds.broker) files.push(this.#path(link.ca ?? this.#running.tls.ca));
    if (this.#trunk) files.push(this.#trunk.paths.ca, this.#trunk.paths.cert, this.#trunk.paths.key);
    const byDir = new Map<string, Set<string>>();
    for (const f of files) byDir.set(dirname(f), (byDir.get(dirname(f)) ?? new Set()).add(basename(f)));
    const key = JSON.stringify([...byDir].map(([d, n]) => [d, [...n].sort()]));
    if (key === this.#watchedDirs) return;
    this.#closeWatchers();
    this.#watchedDirs = key;
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          // A null name (some platforms) or a Kubernetes "..data" swap counts as a change.
          if (name === null || names.has(name) || name.startsWith('..')) this.#schedule();
        });
        w.on('error', (err) => {
          this.#opts.logger.warn({ dir, err: err.message }, 'config file watch stopped; reload with SIGHUP or `elink reload`');
          w.close();
        });
        this.#watchers.push(w);
      } catch (err) {
        this.#opts.logger.warn({ dir, err: (err as Error).message }, 'cannot watch the config directory; reload with SIGHUP or `elink reload`');
      }
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.reload('watch');
    }, this.#opts.debounceMs ?? 300);
    this.#timer.unref();
  }

  #closeWatchers(): void {
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closeWatchers();
  }
}

/**
 * (user, segment) pairs that lost access: the user is gone, or the segment left their
 * list. A changed password keeps the sessions (their tickets were good when used).
 */
export function lostAccess(before: Config['users'], after: Config['users']): (user: string, segment: string) => boolean {
  const now = new Map(after.map((u) => [u.name, new Set(u.segments)]));
  const had = new Set(before.map((u) => u.name));
  return (user, segment) => had.has(user) && !now.get(user)?.has(segment);
}

/** The same check the broker's user directory makes, here so that it fails before anything changes. */
function checkHash(file: string, index: number, hash: string): void {
  try {
    parsePasswordHash(hash);
  } catch (err) {
    throw new ElError('EL_ERR_CONFIG', `invalid configuration in ${file}:\n  users.${index}.password: ${(err as Error).message}`);
  }
}

function readTls(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ElError('EL_ERR_CONFIG', `cannot read ${key} file ${file}: ${(err as Error).message}`);
  }
}

/** The trunks' cluster CA files: where they are and what they hold. */
interface TrunkFiles {
  paths: { ca: string; cert: string; key: string };
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function sameTrunkFiles(a: TrunkFiles, b: TrunkFiles): boolean {
  return a.ca.equals(b.ca) && a.cert.equals(b.cert) && a.key.equals(b.key);
}

function tlsContext(tls: { cert: Buffer; key: Buffer }): void {
  try {
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (err) {
    throw new ElError('EL_ERR_CONFIG', `tls.cert and tls.key do not form a usable pair: ${(err as Error).message}`);
  }
}
