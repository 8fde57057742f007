/**
 * `elink revoke`: revoke a device's key, or every device key of a user, through a broker's
 * admin API (POST /v1/admin/revocations). Every switch node hears it in its next heartbeat
 * reply and ends the sessions; the device must log in with its password again.
 */
import { adminRevocationsReplySchema, adminRevokeReplySchema, ElError, parseReply } from '@elink/protocol';
import { parse } from '../args.js';
import { ADMIN_OPTIONS, adminJson, adminTarget } from './status.js';

export const revokeHelp = `elink revoke — revoke device keys (the broker's admin API); sessions end within one heartbeat

Usage: elink revoke --user NAME [--device ID] [options]
       elink revoke --list [options]
  --user NAME        the user whose device key(s) to revoke
  --device ID        only this device (default: every device of the user)
  --list             list the live revocations instead
  --broker URL       default https://127.0.0.1:<broker.listen.port> from the config
  --token-file FILE  admin token (default: broker.adminToken from the config; env ELINK_ADMIN_TOKEN)
  --ca FILE          CA of the broker certificate (default: the state directory's ca.pem)
  -c, --config FILE / --state DIR   where the config is (default ./.elink-state/elink.yaml)
  --json             print the raw reply

The device's tickets issued until now are refused and its sessions closed (EL_ERR_REVOKED);
its next login needs the password. To keep a user out, also change the password (which alone
revokes no device key) or delete the user.`;

export async function revokeCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    user: { type: 'string' },
    device: { type: 'string' },
    list: { type: 'boolean' },
    ...ADMIN_OPTIONS,
  });
  if (values.help) return void console.log(revokeHelp);
  if (!values.list && !values.user) throw new ElError('EL_ERR_INVALID', '--user is required (or --list; see --help)');
  const { broker, token, ca } = adminTarget(values);
  const url = new URL('/v1/admin/revocations', broker);
  if (values.list) {
    const raw = await adminJson(url, token, ca);
    const reply = parseReply(adminRevocationsReplySchema, raw, `the revocations reply of broker ${url.origin}`);
    if (values.json) return void console.log(JSON.stringify(raw, null, 2));
    console.log('user\tdevice\trevoked at\tremembered until');
    for (const r of reply.revocations) console.log(`${r.user}\t${r.device ?? '(all)'}\t${new Date(r.at * 1000).toISOString()}\t${new Date(r.until * 1000).toISOString()}`);
    return;
  }
  const raw = await adminJson(url, token, ca, 'POST', { user: values.user, ...(values.device ? { device: values.device } : {}) });
  const reply = parseReply(adminRevokeReplySchema, raw, `the revoke reply of broker ${url.origin}`);
  if (values.json) return void console.log(JSON.stringify(raw, null, 2));
  console.log(`revoked ${values.device ? `device "${values.device}" of ` : 'every device of '}user "${values.user}": ${reply.keys} key(s) forgotten; nodes end its sessions at their next heartbeat and refuse its tickets until ${reply.until}`);
}
