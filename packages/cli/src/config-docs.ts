/**
 * The configuration schema as a flat list of keys with their default and bounds, for the
 * check that the README's configuration reference says what the code does
 * (config-docs.test.ts) and for anyone listing the keys.
 */
import type { z } from 'zod';

export interface ConfigKey {
  /** Dotted path; `[]` marks an array of objects ("segments[]", "broker.nodes[]"). */
  path: string;
  /** The default when the key is left out (undefined: none, or computed). */
  default?: unknown;
  /** "1–60", "≥ 60", "" (not a number, or unbounded). */
  bounds: string;
}

interface Def {
  type: string;
  shape?: Record<string, Node>;
  element?: Node;
  options?: Node[];
  innerType?: Node;
  in?: Node;
  defaultValue?: unknown;
}
interface Node {
  _zod: { def: Def };
  /** ZodNumber's bounds (null when unset; ± MAX_SAFE_INTEGER for a bare int). */
  minValue?: number | null;
  maxValue?: number | null;
}

/** Leaves of the schema (objects are walked into; unions of objects count as one key). */
export function flattenSchema(schema: z.ZodType, prefix = ''): ConfigKey[] {
  const out: ConfigKey[] = [];
  const visit = (node: Node, path: string, dflt: unknown): void => {
    const d = node._zod.def;
    if (d.type === 'default' || d.type === 'prefault') return visit(d.innerType!, path, d.type === 'default' ? d.defaultValue : dflt);
    if (d.innerType) return visit(d.innerType, path, dflt);
    if (d.in) return visit(d.in, path, dflt);
    if (d.shape) {
      for (const [k, v] of Object.entries(d.shape)) visit(v, path ? `${path}.${k}` : k, undefined);
      return;
    }
    out.push({ path, default: dflt, bounds: boundsOf(node) });
  };
  visit(schema as unknown as Node, prefix, undefined);
  return out;
}

function boundsOf(node: Node): string {
  if (node._zod.def.type !== 'number') return '';
  const bounded = (v: number | null | undefined) => typeof v === 'number' && Math.abs(v) < Number.MAX_SAFE_INTEGER;
  const min = bounded(node.minValue) ? fmt(node.minValue!) : undefined;
  const max = bounded(node.maxValue) ? fmt(node.maxValue!) : undefined;
  if (min !== undefined && max !== undefined) return `${min}–${max}`;
  if (min !== undefined) return `≥ ${min}`;
  if (max !== undefined) return `≤ ${max}`;
  return '';
}

/** 4_000_000 as 4000000: as a value is written in YAML. */
const fmt = (n: number) => String(n);
