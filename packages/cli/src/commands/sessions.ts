/**
 * `elink sessions` and `elink kick`: the live sessions of every node (the console's
 * GET /v1/admin/segments/:segment/sessions) and ending one (POST /v1/admin/sessions/:id/disconnect).
 */
import { consoleOverviewReplySchema, consoleSessionsReplySchema, ElError, parseReply, type ConsoleSession } from '@elink/protocol';
import { parse } from '../args.js';
import { ADMIN_FLAGS_HELP, ADMIN_OPTIONS, adminJson, adminTarget } from './status.js';

export const sessionsHelp = `elink sessions — live sessions of every node, with bytes and rates (the broker's admin API)

Usage: elink sessions [--segment S] [options]
  --segment S        only this segment (default: all)
${ADMIN_FLAGS_HELP}
rx is what the switch received from the client (its upload), tx what it sent to it.
Rates: bytes per second over the last sample (0 until a node has reported twice).`;

export const kickHelp = `elink kick — end a session (the broker's admin API); the client may log in again

Usage: elink kick SESSION-ID [options]
${ADMIN_FLAGS_HELP}
The session gets \`bye\` at once on the broker's own node (elink up), at the node's next
heartbeat elsewhere. To keep a user out, disable it as well (elink admin user-disable NAME).`;

/** 1234567 → "1.2 MB" (decimal units, as the console shows them). */
export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

export async function sessionsCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { segment: { type: 'string' }, ...ADMIN_OPTIONS });
  if (values.help) return void console.log(sessionsHelp);
  const { broker, token, ca } = adminTarget(values);
  let segments: string[];
  if (values.segment !== undefined) segments = [values.segment];
  else {
    const url = new URL('/v1/admin/overview', broker);
    segments = parseReply(consoleOverviewReplySchema, await adminJson(url, token, ca), `the overview reply of broker ${url.origin}`).segments.map((s) => s.name);
  }
  const all: Array<ConsoleSession & { segment: string }> = [];
  let truncated = false;
  for (const segment of segments) {
    const url = new URL(`/v1/admin/segments/${encodeURIComponent(segment)}/sessions`, broker);
    const reply = parseReply(consoleSessionsReplySchema, await adminJson(url, token, ca), `the sessions reply of broker ${url.origin}`);
    truncated ||= reply.truncated === true;
    for (const s of reply.sessions) all.push({ ...s, segment });
  }
  if (values.json) return void console.log(JSON.stringify({ sessions: all, ...(truncated ? { truncated } : {}) }, null, 2));
  console.log('id\tuser\tdevice\tsegment\tnode\taddresses\tsince\trx\ttx\trx/s\ttx/s');
  for (const s of all) console.log([s.id, s.user, s.device || '-', s.segment, s.node, s.addresses.join(',') || '-', s.since, humanBytes(s.rxBytes), humanBytes(s.txBytes), humanBytes(s.rxBps), humanBytes(s.txBps)].join('\t'));
  if (all.length === 0) console.log('(no sessions)');
  if (truncated) console.log('(a node listed only part of its sessions)');
}

export async function kickCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, ADMIN_OPTIONS, true);
  if (values.help) return void console.log(kickHelp);
  const id = positionals[0];
  if (!id) throw new ElError('EL_ERR_INVALID', 'elink kick needs a SESSION-ID (elink sessions lists them)');
  const { broker, token, ca } = adminTarget(values);
  const raw = await adminJson(new URL(`/v1/admin/sessions/${encodeURIComponent(id)}/disconnect`, broker), token, ca, 'POST');
  if (values.json) return void console.log(JSON.stringify(raw));
  console.log(`session ${id} disconnected`);
}
