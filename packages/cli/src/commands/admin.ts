/**
 * `elink admin`: the console's actions from the shell, through a broker's admin API, so
 * each lands in the audit log (who: the admin token). Users changed here live in the
 * broker's store; `elink user` edits the config file instead.
 */
import { readFileSync } from 'node:fs';
import { adminUsersReplySchema, auditReplySchema, ElError, parseReply } from '@elink/protocol';
import { parse } from '../args.js';
import { ADMIN_FLAGS_HELP, ADMIN_OPTIONS, adminJson, adminTarget } from './status.js';
import { readPassword } from './user.js';

export const adminHelp = `elink admin — administrative actions through a broker's admin API (audited)

Usage: elink admin ACTION [ARGS] [options]
  users                                  list users (store and config file)
  user-add NAME [--segment S]... [--admin] [--password-file FILE]
                                         a user in the store (--admin: may sign in to the console)
  user-del NAME                          delete a store user (its sessions end)
  user-disable NAME / user-enable NAME   refuse / allow its logins (disabling ends its sessions)
  passwd NAME [--password-file FILE]     reset a store user's password
  digest NAME [--secret-file FILE]       set the user's DTCP secret (challenge–response logins)
  drain NODE                             the node redirects its sessions and takes no new ones
  audit [--limit N]                      the audit log, newest first
Passwords and secrets are read from FILE, else the first line of stdin.
${ADMIN_FLAGS_HELP}`;

export async function adminCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    { ...ADMIN_OPTIONS, segment: { type: 'string', multiple: true }, admin: { type: 'boolean' }, 'password-file': { type: 'string' }, 'secret-file': { type: 'string' }, limit: { type: 'string' } },
    true,
  );
  const [action, name] = positionals;
  if (values.help || action === undefined) return void console.log(adminHelp);
  const needName = () => {
    if (!name) throw new ElError('EL_ERR_INVALID', `elink admin ${action} needs a NAME`);
    return encodeURIComponent(name);
  };
  const { broker, token, ca } = adminTarget(values);
  const url = (path: string) => new URL(`/v1/admin${path}`, broker);
  const done = (raw: unknown, what: string) => console.log(values.json ? JSON.stringify(raw) : what);
  switch (action) {
    case 'users': {
      const raw = await adminJson(url('/users'), token, ca);
      const reply = parseReply(adminUsersReplySchema, raw, 'the users reply');
      if (values.json) return void console.log(JSON.stringify(raw, null, 2));
      console.log('name\tsegments\tenabled\tadmin\tdigest\tsource');
      for (const u of reply.users) console.log([u.name, u.segments.join(','), u.enabled ? 'yes' : 'NO', u.admin ? 'yes' : 'no', u.digest ? 'yes' : 'no', u.source].join('\t'));
      return;
    }
    case 'user-add': {
      const n = needName();
      const body = { name: decodeURIComponent(n), password: await readPassword(values['password-file']), segments: values.segment ?? [], ...(values.admin ? { admin: true } : {}) };
      if (body.segments.length === 0) throw new ElError('EL_ERR_INVALID', 'elink admin user-add needs at least one --segment');
      return done(await adminJson(url('/users'), token, ca, 'POST', body), `added user ${name}${values.admin ? ' (console administrator)' : ''}`);
    }
    case 'user-del':
      return done(await adminJson(url(`/users/${needName()}`), token, ca, 'DELETE'), `deleted user ${name}`);
    case 'user-disable':
    case 'user-enable': {
      const enabled = action === 'user-enable';
      return done(await adminJson(url(`/users/${needName()}/enabled`), token, ca, 'PUT', { enabled }), `${enabled ? 'enabled' : 'disabled'} user ${name}`);
    }
    case 'passwd':
      return done(await adminJson(url(`/users/${needName()}/password`), token, ca, 'PUT', { password: await readPassword(values['password-file']) }), `changed the password of ${name}`);
    case 'digest': {
      const n = needName();
      const secret = values['secret-file'] ? readFileSync(values['secret-file'], 'utf8').split('\n')[0]!.replace(/\r$/, '') : await readPassword(undefined);
      return done(await adminJson(url(`/users/${n}/digest`), token, ca, 'PUT', { secret }), `set the DTCP secret of ${name}`);
    }
    case 'drain':
      return done(await adminJson(url(`/nodes/${needName()}/drain`), token, ca, 'POST'), `node ${name} drains`);
    case 'audit': {
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new ElError('EL_ERR_INVALID', `--limit must be 1-10000, got "${values.limit}"`);
      const raw = await adminJson(url(`/audit?limit=${limit}`), token, ca);
      const reply = parseReply(auditReplySchema, raw, 'the audit reply');
      if (values.json) return void console.log(JSON.stringify(raw, null, 2));
      console.log('time\twho\taction\ttarget\tresult');
      for (const e of reply.entries) console.log([e.t, e.who, e.action, e.target || '-', e.result].join('\t'));
      return;
    }
    default:
      throw new ElError('EL_ERR_INVALID', `unknown action "${action}" (see elink admin --help)`);
  }
}
