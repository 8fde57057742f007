/**
 * The broker's side of the HTTP contracts in @elink/protocol (http/): request bodies are
 * parsed with the contract before the handler runs, and replies are serialized with the
 * contract's JSON Schema, so a field outside the contract never leaves the broker.
 */
import type { FastifyRequest } from 'fastify';
import { errorBodySchema, parseRequest, wireJsonSchema, type WireSchema } from '@elink/protocol';

const errorReply = wireJsonSchema(errorBodySchema);

/** Response schemas of a route: its reply on 200, the error body otherwise. */
export function replies(ok: WireSchema): Record<string, unknown> {
  return { 200: wireJsonSchema(ok), '4xx': errorReply, '5xx': errorReply };
}

/**
 * A preValidation hook: the body parsed with `schema` (EL_ERR_INVALID naming the field,
 * answered 400). It runs where fastify validates: after the admin token, before the handler.
 */
export function bodyOf(schema: WireSchema): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    request.body = parseRequest(schema, request.body);
  };
}
