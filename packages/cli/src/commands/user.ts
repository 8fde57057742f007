/**
 * `elink user add|del|list|passwd`: edits the users in the config file, keeping its
 * comments and layout (yaml's Document API). A running broker on the same file reloads
 * its users when the file changes (reload.ts); each command says whether one picked it up.
 *
 * With a Redis store (`broker.store.type: redis`) users live in the store, which every
 * broker reads at each login: add goes there, passwd/del act where the user is (store
 * first, then the file), list shows both. Each command says which one it changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDocument, YAMLMap, YAMLSeq, type Document } from 'yaml';
import { hashPassword, openStore, type BrokerStore, type StoreConfig } from '@elink/broker';
import { ElError } from '@elink/protocol';
import { parse } from '../args.js';
import { CONFIG_FILE } from '../state.js';
import { runningServers } from '../pid-file.js';
import { loadConfig, userSchema } from '../config.js';

export const userHelp = `elink user — manage users (in the config file, or in the Redis store when
broker.store is Redis)

Usage:
  elink user add NAME [--segment S]... [--password-file FILE] [--macs N] [--lan CIDR]... [--admin]
                      (password from FILE or stdin; --macs: source MACs for an elink bridge,
                      --lan: the LAN ranges that bridge may claim in ARP/ND, docs/lan.md;
                      --admin: may sign in to the web console, docs/console.md)
  elink user passwd NAME [--password-file FILE]
  elink user del NAME
  elink user list [--json]
Options:
  -c, --config FILE   config file (default: STATE/elink.yaml; env ELINK_CONFIG)
      --state DIR     state directory (default: ./.elink-state; env ELINK_STATE_DIR)
Config file: a running elink up / elink broker on this file applies the change within
a second (it watches the file); \`elink reload\` makes it read the file again.
Redis store: add/passwd/del act on the store (users of the config file are edited in the
file); brokers see store changes at the next login, without a restart.`;

/** `--macs N` and `--lan CIDR`… of `user add`: what an `elink bridge` user needs (docs/lan.md). */
function bridgeOptions(values: { macs?: string; lan?: string[]; admin?: boolean }): { macs?: number; lan?: string[]; admin?: true } {
  const out: { macs?: number; lan?: string[]; admin?: true } = {};
  if (values.admin) out.admin = true;
  if (values.macs !== undefined) {
    if (!/^\d+$/.test(values.macs)) throw new ElError('EL_ERR_INVALID', `--macs must be a whole number 1-65536, got "${values.macs}"`);
    out.macs = Number(values.macs);
  }
  if (values.lan?.length) out.lan = values.lan;
  return out;
}

/** Refuses an entry the config schema would refuse, naming the field. */
function checkUser(entry: Record<string, unknown>): void {
  const check = userSchema.safeParse(entry);
  if (!check.success) {
    const issue = check.error.issues[0];
    throw new ElError('EL_ERR_INVALID', `user: ${issue?.path.length ? `${issue.path.join('.')}: ` : ''}${issue?.message}`);
  }
}

export async function readPassword(file: string | undefined): Promise<string> {
  let text: string;
  if (file) text = readFileSync(file, 'utf8');
  else {
    if (process.stdin.isTTY) process.stderr.write('password: ');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  }
  const pw = text.split('\n')[0]!.replace(/\r$/, '');
  if (pw.length < 8) throw new ElError('EL_ERR_INVALID', 'the password must have at least 8 characters');
  return pw;
}

export async function userCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { config: { type: 'string', short: 'c' }, state: { type: 'string' }, segment: { type: 'string', multiple: true }, 'password-file': { type: 'string' }, macs: { type: 'string' }, lan: { type: 'string', multiple: true }, admin: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  const [action, name] = positionals;
  if (values.help || !action) return void console.log(userHelp);
  const file = resolve(values.config ?? process.env.ELINK_CONFIG ?? join(values.state ?? process.env.ELINK_STATE_DIR ?? '.elink-state', CONFIG_FILE));
  const loaded = loadConfig(file);
  const sc = loaded.config.broker.store;
  if (sc.type === 'redis') {
    const store = await openStore(sc as StoreConfig);
    try {
      if (await storeAction(store, describeStore(sc as StoreConfig), action, name, values, loaded.config.segments.map((s) => s.name), loaded.config.users)) return;
    } finally {
      await store.close();
    }
  }
  const doc = parseDocument(readFileSync(file, 'utf8'));
  let users = doc.get('users') as YAMLSeq | undefined;
  if (!users) {
    users = new YAMLSeq();
    doc.set('users', users);
  }
  const index = loaded.config.users.findIndex((u) => u.name === name);
  const need = (what: string) => {
    if (!name) throw new ElError('EL_ERR_INVALID', `elink user ${action} needs a user NAME`);
    if (what === 'exists' && index < 0) throw new ElError('EL_ERR_INVALID', `no user "${name}" in ${file}`);
    if (what === 'absent' && index >= 0) throw new ElError('EL_ERR_INVALID', `user "${name}" already exists in ${file} (use passwd to change the password)`);
  };

  switch (action) {
    case 'list':
      if (values.json) return void console.log(JSON.stringify({ users: loaded.config.users.map((u) => ({ name: u.name, segments: u.segments, admin: u.admin === true, source: 'config' })) }, null, 2));
      for (const u of loaded.config.users) console.log(`${u.name}\t${u.segments.join(',')}${u.admin ? '\tadmin' : ''}`);
      return;
    case 'add': {
      need('absent');
      const segments = values.segment ?? [loaded.config.segments[0]!.name];
      for (const s of segments) if (!loaded.config.segments.some((x) => x.name === s)) throw new ElError('EL_ERR_INVALID', `no segment "${s}" in ${file}`);
      const entry = { name: name!, password: await hashPassword(await readPassword(values['password-file'])), segments, ...bridgeOptions(values) };
      checkUser(entry);
      // Keep the file's block style: an emptied list prints as flow `[]`, which must not
      // turn the next user into an inline {…} entry.
      const first = users.items[0];
      if (users.items.length === 0) users.flow = false;
      const node = doc.createNode(entry);
      node.flow = first instanceof YAMLMap ? Boolean(first.flow) : false;
      users.add(node);
      save(doc, file);
      console.log(`added user ${name} (segments: ${segments.join(', ')}) to ${file}`);
      console.log(runningNote(file));
      return;
    }
    case 'passwd': {
      need('exists');
      doc.setIn(['users', index, 'password'], await hashPassword(await readPassword(values['password-file'])));
      save(doc, file);
      console.log(`changed the password of ${name} in ${file}`);
      console.log(runningNote(file));
      return;
    }
    case 'del': {
      need('exists');
      doc.deleteIn(['users', index]);
      save(doc, file);
      console.log(`deleted user ${name} from ${file}`);
      console.log(runningNote(file));
      return;
    }
    default:
      throw new ElError('EL_ERR_INVALID', `unknown action "${action}" (add, passwd, del, list)`);
  }
}

function save(doc: Document, file: string): void {
  // lineWidth 0: never fold a long scalar (a scrypt hash) over two lines.
  writeFileSync(file, doc.toString({ lineWidth: 0 }), { mode: 0o600 });
}

/** Whether a running broker on this file picks the change up (it watches the file), and how to make sure. */
function runningNote(file: string): string {
  const brokers = runningServers(dirname(file)).filter((s) => s.kind !== 'switch');
  if (brokers.length === 0) return 'no broker is running on this file: the change applies when one starts';
  const which = brokers.map((s) => `elink ${s.kind} (pid ${s.pid})`).join(', ');
  return `the running ${which} reloads the file by itself within a second; if its log shows no "config reloaded", run: elink reload --config ${file}`;
}

function describeStore(sc: StoreConfig): string {
  if ('url' in sc) return `the Redis store (${sc.url.replace(/\/\/[^@/]*@/, '//***@')})`;
  if ('sentinels' in sc) return `the Redis store (Sentinel master ${sc.name})`;
  if ('cluster' in sc) return `the Redis store (Cluster)`;
  return 'the store';
}

/**
 * The Redis-store side of `elink user`. Returns false when the action concerns a user of
 * the config file (passwd/del of such a user), which the caller then edits in the file.
 */
async function storeAction(
  store: BrokerStore,
  where: string,
  action: string,
  name: string | undefined,
  values: { segment?: string[]; 'password-file'?: string; macs?: string; lan?: string[]; admin?: boolean; json?: boolean },
  segmentNames: string[],
  configUsers: Array<{ name: string; segments: string[]; admin?: boolean }>,
): Promise<boolean> {
  const inConfig = configUsers.some((u) => u.name === name);
  if (action !== 'list' && !name) throw new ElError('EL_ERR_INVALID', `elink user ${action} needs a user NAME`);
  switch (action) {
    case 'list': {
      const all = [...(await store.listUsers()).map((u) => ({ name: u.name, segments: u.segments, admin: u.admin === true, source: 'store' })), ...configUsers.map((u) => ({ name: u.name, segments: u.segments, admin: u.admin === true, source: 'config' }))];
      if (values.json) console.log(JSON.stringify({ users: all }, null, 2));
      else for (const u of all) console.log(`${u.name}\t${u.segments.join(',')}\t${u.source}${u.admin ? '\tadmin' : ''}`);
      return true;
    }
    case 'add': {
      if (inConfig || (await store.getUser(name!))) throw new ElError('EL_ERR_INVALID', `user "${name}" already exists (use passwd to change the password)`);
      const segments = values.segment ?? [segmentNames[0]!];
      for (const s of segments) if (!segmentNames.includes(s)) throw new ElError('EL_ERR_INVALID', `no segment "${s}" in the configuration`);
      const bridge = bridgeOptions(values);
      const entry = { name: name!, password: await hashPassword(await readPassword(values['password-file'])), segments, ...bridge };
      checkUser(entry);
      await store.putUser({ name: entry.name, passwordHash: entry.password, segments, ...bridge });
      console.log(`added user ${name} (segments: ${segments.join(', ')}) to ${where}`);
      return true;
    }
    case 'passwd': {
      const user = await store.getUser(name!);
      if (!user) return false;
      await store.putUser({ ...user, passwordHash: await hashPassword(await readPassword(values['password-file'])) });
      console.log(`changed the password of ${name} in ${where}`);
      return true;
    }
    case 'del': {
      if (!(await store.deleteUser(name!))) return false;
      console.log(`deleted user ${name} from ${where}`);
      return true;
    }
    default:
      return false;
  }
}
