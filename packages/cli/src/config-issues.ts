/**
 * Zod issues of the config file as lines a user can act on. An unknown key is named with
 * its place and the nearest known key there ("unknown key "drainSecond" in switch (did you
 * mean "drainSeconds"?)"); a key of the other segment mode says so.
 */
import type { z } from 'zod';
import { L2_ONLY_KEYS, L3_ONLY_KEYS } from '@elink/protocol';
import { nearestName } from './nearest-name.js';

type Path = readonly PropertyKey[];
export interface ConfigIssue {
  /** Dotted path of the offending value; for an unknown key, the key's path (its place when the key is no plain name). */
  path: string;
  message: string;
}

/** One line per problem; `raw` is the parsed YAML, used to find which variant a union meant. */
export function describeIssues(schema: z.ZodType, raw: unknown, issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') {
      out.push({ path: issue.path.join('.'), message: issue.message });
      continue;
    }
    const where = issue.path.length ? issue.path.join('.') : '';
    const known = knownKeysAt(schema, raw, issue.path);
    for (const key of issue.keys) {
      // A key that is no plain name (spaces, dots, empty) would garble the dotted path: name its place instead.
      const plain = /^[A-Za-z0-9_-]+$/.test(key);
      out.push({ path: plain ? (where ? `${where}.${key}` : key) : where, message: unknownKeyMessage(key, placeOf(raw, issue.path), known, segmentMode(raw, issue.path)) });
    }
  }
  return out;
}

/** "in switch.queue", "in segment "lab"", "in keepalive of segment "lab"", "at the top level". */
function placeOf(raw: unknown, path: Path): string {
  if (path.length === 0) return 'at the top level';
  const kind = path[0] === 'segments' ? 'segment' : path[0] === 'users' ? 'user' : undefined;
  const entry = kind && path.length >= 2 ? valueAt(raw, path.slice(0, 2)) : undefined;
  if (kind && isObject(entry) && typeof entry.name === 'string') {
    const rest = path.slice(2).join('.');
    return `in ${rest ? `${rest} of ` : ''}${kind} ${JSON.stringify(entry.name)}`;
  }
  return `in ${path.join('.')}`;
}

function unknownKeyMessage(key: string, place: string, known: readonly string[], mode: 'l2' | 'l3' | undefined): string {
  // Quoted as JSON: a key with a quote or a line break stays on one readable line.
  const q = JSON.stringify(key);
  if (mode === 'l3' && L2_ONLY_KEYS.includes(key)) return `unknown key ${q} ${place}: ${q} is a key of L2 segments and this segment is mode: l3`;
  if (mode === 'l2' && L3_ONLY_KEYS.includes(key)) return `unknown key ${q} ${place}: ${q} is a key of L3 segments (mode: l3) and this segment is L2 (no mode, or mode: l2)`;
  const near = nearestName(key, known);
  return `unknown key ${q} ${place}${near ? ` (did you mean "${near}"?)` : ''}`;
}

/** The mode of the segment at `segments.N` (L2 when not given), else undefined. */
function segmentMode(raw: unknown, path: Path): 'l2' | 'l3' | undefined {
  if (path.length !== 2 || path[0] !== 'segments') return undefined;
  const seg = valueAt(raw, path);
  return isObject(seg) && seg.mode === 'l3' ? 'l3' : 'l2';
}

function valueAt(raw: unknown, path: Path): unknown {
  let v = raw;
  for (const p of path) v = isObject(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** The keys the schema knows for the object at `path` (the union variants `raw` may mean). */
export function knownKeysAt(schema: z.ZodType, raw: unknown, path: Path): string[] {
  let nodes: Schema[] = [schema as unknown as Schema];
  for (let i = 0; i <= path.length; i++) {
    const value = valueAt(raw, path.slice(0, i));
    nodes = nodes.flatMap((n) => variants(n, value));
    if (i === path.length) break;
    const step = path[i];
    nodes = nodes.flatMap((n) => {
      const d = n._zod.def;
      if (d.shape && typeof step === 'string' && d.shape[step]) return [d.shape[step]];
      if (d.element && typeof step === 'number') return [d.element];
      return [];
    });
  }
  return [...new Set(nodes.flatMap((n) => Object.keys(n._zod.def.shape ?? {})))];
}

/** Minimal view of zod v4 schema definitions, enough to walk objects, arrays, unions and wrappers. */
interface Schema {
  _zod: { def: SchemaDef };
}
interface SchemaDef {
  type: string;
  shape?: Record<string, Schema>; // object
  element?: Schema; // array
  options?: Schema[]; // union
  innerType?: Schema; // default, prefault, optional, nullable, readonly, catch
  in?: Schema; // pipe (transform, preprocess)
  values?: unknown[]; // literal
}

/** The object/array schemas `s` stands for, given the value it is applied to. */
function variants(s: Schema, value: unknown): Schema[] {
  const d = s._zod.def;
  if (d.innerType) return variants(d.innerType, value);
  if (d.in) return variants(d.in, value);
  if (d.options) {
    const all = d.options.flatMap((o) => variants(o, value));
    // A union told apart by a literal field (segment `mode`, store `type`): the variants whose literal matches.
    const matching = all.filter((o) => discriminantsMatch(o, value));
    return matching.length ? matching : all;
  }
  return [s];
}

function discriminantsMatch(s: Schema, value: unknown): boolean {
  const d = s._zod.def;
  if (!d.shape || !isObject(value)) return false;
  for (const [k, field] of Object.entries(d.shape)) {
    const lit = literalValues(field);
    if (!lit) continue;
    // A missing discriminant matches the variant that defaults it (segment mode l2).
    if (!lit.includes(value[k])) return false;
  }
  return true;
}

function literalValues(s: Schema): unknown[] | undefined {
  const d = s._zod.def;
  if (d.type === 'literal') return d.values;
  if (d.innerType && (d.type === 'default' || d.type === 'prefault' || d.type === 'optional')) {
    const inner = literalValues(d.innerType);
    return inner && [...inner, undefined];
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
