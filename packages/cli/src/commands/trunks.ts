/**
 * `elink trunks`: every node's trunks to its peer nodes (the console's GET /v1/admin/trunks,
 * from the nodes' heartbeat reports).
 */
import { consoleTrunksReplySchema, parseReply } from '@elink/protocol';
import { parse } from '../args.js';
import { humanBytes } from './sessions.js';
import { ADMIN_FLAGS_HELP, ADMIN_OPTIONS, adminJson, adminTarget } from './status.js';

export const trunksHelp = `elink trunks — every switch node's trunks to its peer nodes (the broker's admin API)

Usage: elink trunks [options]
${ADMIN_FLAGS_HELP}
One line per node and peer: up or down since when, frames and bytes in and out since the
node started, frames dropped by reason, and the endpoints (MACs, routes) it announces to
the peer and has learned from it. As of each node's last heartbeat.`;

export async function trunksCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, ADMIN_OPTIONS);
  if (values.help) return void console.log(trunksHelp);
  const { broker, token, ca } = adminTarget(values);
  const url = new URL('/v1/admin/trunks', broker);
  const { trunks } = parseReply(consoleTrunksReplySchema, await adminJson(url, token, ca), `the trunks reply of broker ${url.origin}`);
  if (values.json) return void console.log(JSON.stringify({ trunks }, null, 2));
  console.log('node\tpeer\tstate\tsince\tsegments\tframes in/out\tbytes in/out\tdrops\tannounced\tlearned');
  for (const t of trunks) {
    const drops = Object.entries(t.drops).map(([r, n]) => `${r}=${n}`).join(',') || '-';
    console.log([t.node, t.peer, t.state, t.since, t.segments.join(',') || '-', `${t.framesIn}/${t.framesOut}`, `${humanBytes(t.bytesIn)}/${humanBytes(t.bytesOut)}`, drops, t.announced, t.learned].join('\t'));
  }
  if (trunks.length === 0) console.log('(no trunks)');
}
