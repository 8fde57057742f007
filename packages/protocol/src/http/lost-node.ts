/**
 * `EL-Lost-Node: <node id>` on POST /v1/login and /v1/login/device: the client lost its
 * session on that node and logs in again; the broker ranks that node last in this reply
 * (docs/protocol.md §6.1). A header, not a body field: a broker that predates it ignores an
 * unknown header, while its strict body schemas would refuse an unknown field.
 */

/** The header's name (HTTP header names are case-insensitive; node:http gives them lower-case). */
export const LOST_NODE_HEADER = 'el-lost-node';

/** What a header value may be: a node id of 1..64 visible ASCII characters (no space). */
const LOST_NODE_VALUE = /^[\x21-\x7e]{1,64}$/;

/** Whether `node` can be named in the header (a node id with other characters cannot). */
export function canNameLostNode(node: string): boolean {
  return LOST_NODE_VALUE.test(node);
}

/**
 * The node id a request's header names, as node:http hands it over (a string, or an array
 * when repeated), or why it is ignored: `absent`, or `invalid` (repeated, empty, too long,
 * or a character outside visible ASCII). Never throws: the header only ever reorders.
 */
export function parseLostNodeHeader(value: string | string[] | undefined): { node: string } | { ignored: 'absent' | 'invalid' } {
  if (value === undefined) return { ignored: 'absent' };
  if (typeof value !== 'string' || !LOST_NODE_VALUE.test(value)) return { ignored: 'invalid' };
  return { node: value };
}
