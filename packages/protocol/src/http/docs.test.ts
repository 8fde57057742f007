/**
 * docs/protocol.md §6 lists the contracts' fields in tables: each table names exactly
 * the fields of its schema, and says "yes" in the req. column exactly for the required
 * ones, so the document cannot drift from the code without this failing.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { heartbeatReplySchema, heartbeatRequestSchema } from './heartbeat.js';
import { loginReplySchema, loginRequestSchema, serverEntrySchema } from './login.js';

const doc = readFileSync(new URL('../../../../docs/protocol.md', import.meta.url), 'utf8');

/** Rows of the first table after `heading` then `label`: field names (backticked, comma-separated) → req. column. */
function table(heading: string, label: string): Map<string, string> {
  const at = doc.indexOf(label, doc.indexOf(heading));
  expect(doc.indexOf(heading), heading).toBeGreaterThan(0);
  const rows = doc.slice(at).split('\n').slice(1);
  const first = rows.findIndex((l) => l.startsWith('|'));
  const out = new Map<string, string>();
  for (const line of rows.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const [field, , req] = line.split(' | ').map((c) => c.replace(/^\| /, '').trim());
    for (const name of field!.split(', ')) out.set(name.replace(/`/g, ''), req!);
  }
  return out;
}

/** Field name → required, of an object schema (with `prefix` for the fields of an array's items). */
function fields(schema: z.ZodObject, prefix = ''): Map<string, boolean> {
  return new Map(Object.entries(schema.shape).map(([k, v]) => [prefix + k, !(v as z.ZodType).safeParse(undefined).success]));
}

function expectSame(documented: Map<string, string>, schema: Map<string, boolean>): void {
  expect([...documented.keys()].sort()).toEqual([...schema.keys()].sort());
  for (const [name, required] of schema) expect(documented.get(name)!.startsWith('yes'), `${name} required`).toBe(required);
}

describe('docs/protocol.md §6 matches the contracts', () => {
  it('POST /v1/login request and reply', () => {
    const request = table('### 6.1', 'Request:');
    // password and challenge+digest are each optional, one of the two required (the table says so).
    expect(request.get('password')).toMatch(/^one of/);
    expect(request.get('challenge')).toMatch(/^both, instead of/);
    for (const k of ['password', 'challenge', 'digest']) request.set(k, 'no');
    expectSame(request, fields(loginRequestSchema));
    const reply = table('### 6.1', 'Reply `200`:');
    expectSame(reply, new Map([...fields(loginReplySchema), ...fields(serverEntrySchema, 'servers[].')]));
  });

  it('POST /v1/nodes/heartbeat request and reply', () => {
    expectSame(table('### 6.3', 'Request ('), fields(heartbeatRequestSchema));
    expectSame(table('### 6.3', 'Reply `200` ('), fields(heartbeatReplySchema));
  });
});
