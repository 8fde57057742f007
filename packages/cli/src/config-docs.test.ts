/**
 * The README's configuration reference says what the code does: every key of the schema
 * is in a table, no table names a key the schema lacks, and the defaults, bounds, modes
 * and reload behaviour written there are the schema's and the reloader's.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { l2SegmentSchema, l3SegmentSchema } from '@elink/protocol';
import { LIVE_SEGMENT_SETTINGS } from '@elink/switch';
import { configSchema } from './config.js';
import { LIVE_PATHS } from './config-diff.js';
import { flattenSchema, type ConfigKey } from './config-docs.js';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const section = readme.slice(readme.indexOf('## Configuration reference'), readme.indexOf('## Documentation'));

interface Row {
  keys: string[];
  cells: Record<string, string>;
}

/** The rows of the table whose header starts with `header`. */
function table(header: string): Row[] {
  const lines = section.split('\n');
  const at = lines.findIndex((l) => l.startsWith(header));
  expect(at, header).toBeGreaterThan(-1);
  const names = lines[at].split('|').slice(1, -1).map((c) => c.trim());
  const rows: Row[] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const byName = Object.fromEntries(names.map((n, i) => [n, cells[i] ?? '']));
    rows.push({ keys: expandKeys(byName.key), cells: byName });
  }
  return rows;
}

/** "`a.b.c`, `.d`" → ["a.b.c", "a.b.d"]; "`segments[]`" → ["segments"]. */
function expandKeys(cell: string): string[] {
  const out: string[] = [];
  for (const [, raw] of cell.matchAll(/`([^`]+)`/g)) {
    const key = raw.replace(/\[\]$/, '');
    out.push(key.startsWith('.') ? out[out.length - 1].replace(/\.[^.]+$/, '') + key : key);
  }
  return out;
}

/** The cell's comma-separated entries, one per key when there are as many, else one for all. */
function entryFor(cell: string, keys: string[], i: number): string | undefined {
  const parts = cell.split(/, (?![^{]*})/);
  if (parts.length === keys.length) return parts[i];
  return parts.length === 1 ? parts[0] : undefined;
}

const show = (v: unknown) => (Array.isArray(v) && v.length === 0 ? '[]' : String(v));

function checkRows(rows: Row[], schemaKeys: ConfigKey[], where: string): void {
  const byPath = new Map(schemaKeys.map((k) => [k.path, k]));
  const documented = new Set(rows.flatMap((r) => r.keys));
  // Every key of the schema, or an object above it, has a row.
  for (const k of schemaKeys) {
    const parts = k.path.split('.');
    const covered = parts.some((_, i) => documented.has(parts.slice(0, i + 1).join('.')));
    expect(covered, `${where}: ${k.path} is not in the README table`).toBe(true);
  }
  for (const row of rows) {
    row.keys.forEach((path, i) => {
      const known = byPath.has(path) || schemaKeys.some((k) => k.path.startsWith(`${path}.`));
      expect(known, `${where}: the README names ${path}, which the schema does not have`).toBe(true);
      const key = byPath.get(path);
      if (!key) return;
      const dflt = entryFor(row.cells.default, row.keys, i);
      const written = dflt?.match(/^`([^`]*)`$/)?.[1];
      if (written !== undefined && (typeof key.default !== 'object' || Array.isArray(key.default))) expect(written, `${where}: default of ${path}`).toBe(show(key.default));
      if (dflt === '—') expect(key.default, `${where}: ${path} has a default`).toBeUndefined();
      if (key.bounds) {
        const entry = entryFor(row.cells.bounds, row.keys, i);
        const tokens = [...(entry ?? '').matchAll(/`([^`]*[–≥≤][^`]*)`/g)].map((m) => m[1]);
        expect(tokens, `${where}: bounds of ${path}`).toContain(key.bounds);
      }
    });
  }
}

describe('README configuration reference', () => {
  it('lists every key of the file with its default, bounds and reload behaviour', () => {
    const rows = table('| key | default | bounds | reload |');
    checkRows(rows, flattenSchema(configSchema), 'config');
    for (const row of rows) {
      for (const path of row.keys) {
        if (path === 'segments') continue; // its own table below
        const parts = path.split('.');
        const live = parts.some((_, i) => LIVE_PATHS.has(parts.slice(0, i + 1).join('.')));
        expect(row.cells.reload, `reload of ${path}`).toBe(live ? 'live' : 'restart');
      }
    }
  });

  it('lists every segment key with the mode that takes it and whether a reload applies it', () => {
    const rows = table('| key | mode | default | bounds | reload |');
    const l2 = flattenSchema(l2SegmentSchema);
    const l3 = flattenSchema(l3SegmentSchema);
    const merged = new Map([...l3, ...l2].map((k) => [k.path, k]));
    checkRows(rows, [...merged.values()], 'segment');
    const top = (keys: ConfigKey[]) => new Set(keys.map((k) => k.path.split('.')[0]));
    const [in2, in3] = [top(l2), top(l3)];
    for (const row of rows) {
      const t = row.keys[0].split('.')[0];
      expect(row.cells.mode, `mode of ${t}`).toBe(in2.has(t) && in3.has(t) ? 'both' : in2.has(t) ? 'l2' : 'l3');
      if (t === 'name') continue;
      expect(row.cells.reload, `reload of ${t}`).toBe((LIVE_SEGMENT_SETTINGS as readonly string[]).includes(t) ? 'live' : 'restart');
    }
  });
});
