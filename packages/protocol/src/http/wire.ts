/**
 * Parsing HTTP JSON bodies against their contracts (the schemas next to this file).
 * Both sides parse with the same schema: the broker a request (a mismatch is the
 * caller's mistake, EL_ERR_INVALID, answered 400), the client and the switch node a
 * reply (a mismatch is a broken or newer peer, EL_ERR_PROTOCOL). The message names the
 * first field that does not match, so the user sees what to fix or which side to upgrade.
 */
import { z } from 'zod';
import { ElError } from '../errors.js';

/** A contract: any zod schema; `WireType<S>` is what a parse returns. */
export type WireSchema = z.ZodType;
export type WireType<S extends WireSchema> = z.output<S>;

/** `field "servers.0.port": Invalid input: expected number, received string`. */
export function describeWireIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'does not match the contract';
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(the whole body)';
  return `field "${field}": ${issue.message}`;
}

/** A request body, as the server parses it: EL_ERR_INVALID naming the field. */
export function parseRequest<S extends WireSchema>(schema: S, body: unknown): WireType<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw new ElError('EL_ERR_INVALID', `invalid request: ${describeWireIssue(r.error)}`);
}

/** A reply, as the caller parses it: EL_ERR_PROTOCOL naming `what` and the field. */
export function parseReply<S extends WireSchema>(schema: S, body: unknown, what: string): WireType<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw new ElError('EL_ERR_PROTOCOL', `${what} does not match the protocol: ${describeWireIssue(r.error)} (a broker and a node or client of different versions?)`);
}

/**
 * The JSON Schema of a contract's output, for a server that serializes replies with
 * it (fastify's response schemas): fields outside the contract never leave the server.
 */
export function wireJsonSchema(schema: WireSchema): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-7', io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
}
