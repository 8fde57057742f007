/**
 * deploy/grafana/elink.json, loaded and checked against what the processes really export:
 *
 * - it is a dashboard Grafana imports: the fields it needs, with their types (a zod schema
 *   of them), unique panel ids and refIds, panels inside the 24-column grid and not on top
 *   of each other, every query on the `datasource` variable;
 * - every PromQL expression parses (Prometheus' own grammar, @prometheus-io/lezer-promql);
 *   every metric it selects is in the registry of a real broker process (Redis store) or a
 *   real switch process (trunks on, heartbeating to that broker), built here as `elink broker` and
 *   `elink switch` build them; every label it matches, groups by or shows in a legend is
 *   on those metrics (or is a label Prometheus adds: job, instance);
 * - the panels cover per node, per segment, drops by reason, sessions, trunks, heartbeats, logins
 *   and failover (admissions by way, suspicions, withdrawn losses);
 * - a misspelled metric or label in a copy is caught.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { z } from 'zod';
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { redisOrSkip, startTestRedis, type TestRedis } from '../../broker/src/store/test-redis.js';
import { loadConfig } from './config.js';
import { installLastResort } from './last-resort.js';
import { ConfigReloader } from './reload.js';
import { startServices, type Services } from './services.js';
import { initState } from './state.js';

const DASHBOARD = fileURLToPath(new URL('../../../deploy/grafana/elink.json', import.meta.url));
/** Labels Prometheus attaches to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

// The fields of a dashboard (and its panels, targets, variables) that Grafana needs to import and draw it.
const datasourceRef = z.object({ type: z.literal('prometheus'), uid: z.literal('${datasource}') });
const gridPos = z.object({ x: z.number().int().min(0).max(23), y: z.number().int().min(0), w: z.number().int().min(1).max(24), h: z.number().int().min(1) }).refine((g) => g.x + g.w <= 24, 'x + w must be at most 24');
const target = z.object({ refId: z.string().regex(/^[A-Z]$/), expr: z.string().min(1), legendFormat: z.string().optional(), datasource: datasourceRef });
const rowPanel = z.object({ id: z.number().int().positive(), type: z.literal('row'), title: z.string().min(1), collapsed: z.boolean(), gridPos, panels: z.array(z.unknown()) });
const queryPanel = z.object({
  id: z.number().int().positive(),
  type: z.enum(['timeseries', 'stat', 'gauge', 'bargauge', 'table']),
  title: z.string().min(1),
  description: z.string().optional(),
  datasource: datasourceRef,
  gridPos,
  fieldConfig: z.object({ defaults: z.object({ unit: z.string().min(1) }).passthrough(), overrides: z.array(z.unknown()) }),
  options: z.record(z.string(), z.unknown()),
  targets: z.array(target).min(1),
});
const variable = z.discriminatedUnion('type', [
  z.object({ type: z.literal('datasource'), name: z.literal('datasource'), query: z.literal('prometheus') }).passthrough(),
  z.object({ type: z.literal('query'), name: z.string().regex(/^\w+$/), datasource: datasourceRef, query: z.object({ query: z.string().regex(/^label_values\(/), refId: z.string() }), definition: z.string(), refresh: z.union([z.literal(1), z.literal(2)]) }).passthrough(),
]);
const dashboardSchema = z.object({
  title: z.string().min(1),
  uid: z.string().regex(/^[\w-]{1,40}$/),
  schemaVersion: z.number().int().min(36),
  version: z.number().int(),
  tags: z.array(z.string()),
  time: z.object({ from: z.string(), to: z.string() }),
  refresh: z.string(),
  templating: z.object({ list: z.array(variable) }),
  annotations: z.object({ list: z.array(z.unknown()) }),
  panels: z.array(z.union([rowPanel, queryPanel])).min(1),
});
type Dashboard = z.infer<typeof dashboardSchema>;
type QueryPanel = z.infer<typeof queryPanel>;

/** Series names a registry exports, each with its label names (histograms: _bucket with le, _sum, _count). */
function seriesOf(registries: Registry[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of registries) {
    for (const m of r.getMetricsAsArray() as unknown as { name: string; labelNames?: string[]; constructor: { name: string } }[]) {
      const labels = [...(m.labelNames ?? []), ...TARGET_LABELS];
      const kind = m.constructor.name;
      const add = (name: string, extra: string[] = []) => out.set(name, new Set([...(out.get(name) ?? []), ...labels, ...extra]));
      if (kind === 'Histogram') {
        add(`${m.name}_bucket`, ['le']);
        add(`${m.name}_sum`);
        add(`${m.name}_count`);
      } else if (kind === 'Summary') {
        add(m.name, ['quantile']);
        add(`${m.name}_sum`);
        add(`${m.name}_count`);
      } else add(m.name);
    }
  }
  return out;
}

/** Grafana's own variables, replaced as Grafana does before the query reaches Prometheus. */
const expand = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '1m').replaceAll('$__range', '1h');

/** Everything wrong with one expression: syntax, unknown metrics, labels not on the metrics it uses. */
function exprProblems(expr: string, series: Map<string, Set<string>>, legend = ''): string[] {
  const text = expand(expr);
  const tree = parser.parse(text);
  const problems: string[] = [];
  const at = (n: SyntaxNode) => text.slice(n.from, n.to);
  const used: string[] = [];
  const grouping: string[] = [];
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) problems.push(`syntax error at ${ref.from}: ${JSON.stringify(text.slice(ref.from, ref.from + 20))}`);
      if (ref.name === 'VectorSelector') {
        const node = ref.node;
        const id = node.getChild('Identifier');
        if (!id) return;
        const name = at(id);
        used.push(name);
        const labels = series.get(name);
        if (!labels) return void problems.push(`unknown metric ${name}`);
        for (const matcher of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
          const label = at(matcher.getChild('LabelName')!);
          if (!labels.has(label)) problems.push(`${name} has no label ${label}`);
        }
      }
      if (ref.name === 'GroupingLabels') for (const l of ref.node.getChildren('LabelName')) grouping.push(at(l));
    },
  });
  const available = new Set(used.flatMap((n) => [...(series.get(n) ?? [])]));
  for (const l of grouping) if (!available.has(l)) problems.push(`grouping by ${l}, which none of ${used.join(', ')} has`);
  for (const [, l] of legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) if (!available.has(l!)) problems.push(`legend shows {{${l}}}, which none of ${used.join(', ')} has`);
  return problems;
}

function dashboardProblems(d: Dashboard, series: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const m = /^label_values\((.+), *(\w+)\)$/.exec(v.query.query);
    if (!m) problems.push(`variable ${v.name}: ${v.query.query}`);
    else {
      problems.push(...exprProblems(m[1]!, series).map((p) => `variable ${v.name}: ${p}`));
      const metric = /^\w+/.exec(m[1]!)![0];
      if (!series.get(metric)?.has(m[2]!)) problems.push(`variable ${v.name}: ${metric} has no label ${m[2]}`);
    }
  }
  for (const p of d.panels) {
    if (p.type === 'row') continue;
    for (const t of (p as QueryPanel).targets) problems.push(...exprProblems(t.expr, series, t.legendFormat).map((x) => `panel "${p.title}" ${t.refId}: ${x}`));
  }
  return problems;
}

const raw = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as unknown;
const haveRedis = redisOrSkip();
let series: Map<string, Set<string>>;
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  if (!haveRedis) return;
  // Real processes' registries: a broker on a real Redis, and a switch heartbeating to it.
  const redis: TestRedis = await startTestRedis();
  cleanup.push(() => redis.destroy());
  const dir = mkdtempSync(join(tmpdir(), 'elink-dash-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  await initState(dir);
  const base = { tls: { ca: 'ca.pem', cert: 'server.pem', key: 'server.key' }, segments: [{ name: 'lab', mode: 'l2', ipv4: { pool: '198.19.0.0/16' } }] };
  const secret = 'a-cluster-secret-of-32-characters';
  // PROXY protocol on, as behind a balancer: el_proxy_header_refused_total exists only then.
  const proxyProtocol = { trusted: ['127.0.0.2/32'] };
  writeFileSync(join(dir, 'broker.yaml'), stringify({ ...base, broker: { listen: { host: '127.0.0.1', port: 0 }, store: { type: 'redis', url: redis.url }, clusterSecret: secret, proxyProtocol }, admin: { host: '127.0.0.1', port: 0 } }));
  const quiet = pino({ level: 'silent' });
  const start = async (file: string, which: { broker: boolean; switch: boolean }): Promise<Services> => {
    const loaded = loadConfig(join(dir, file));
    const services = await startServices(loaded, which, quiet);
    cleanup.push(() => services.stop('test'));
    // What `elink broker|switch` adds to the registry after starting its services (commands/serve.ts).
    cleanup.push(installLastResort(quiet, services.registry));
    new ConfigReloader({ current: loaded, load: () => loadConfig(join(dir, file)), services, kinds: which, logger: quiet, registry: services.registry });
    return services;
  };
  const broker = await start('broker.yaml', { broker: true, switch: false });
  writeFileSync(join(dir, 'switch.yaml'), stringify({ tls: base.tls, switch: { listen: { host: '127.0.0.1', port: 0 }, proxyProtocol, trunk: { host: '127.0.0.1', port: 0 }, broker: { urls: [`https://127.0.0.1:${broker.endpoints.broker!.port}`], clusterSecret: secret } }, admin: { host: '127.0.0.1', port: 0 } }));
  const sw = await start('switch.yaml', { broker: false, switch: true });
  series = seriesOf([broker.registry, sw.registry]);
}, 60_000);

afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe.skipIf(!haveRedis)('deploy/grafana/elink.json', () => {
  it('is a dashboard Grafana can import: required fields, unique ids, a grid without overlaps, one datasource variable', () => {
    const d = dashboardSchema.parse(raw);
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) if (p.type !== 'row') expect(new Set((p as QueryPanel).targets.map((t) => t.refId)).size, p.title).toBe((p as QueryPanel).targets.length);
    const cells = new Map<string, string>();
    for (const p of d.panels) {
      const g = p.gridPos;
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          const key = `${x},${y}`;
          expect(cells.get(key), `"${p.title}" overlaps "${cells.get(key)}" at ${key}`).toBeUndefined();
          cells.set(key, p.title);
        }
    }
    const names = d.templating.list.map((v) => v.name);
    expect(names).toEqual(['datasource', 'job', 'instance', 'segment']);
    // Every $variable a query uses is defined.
    for (const p of d.panels) if (p.type !== 'row') for (const t of (p as QueryPanel).targets) for (const [, v] of t.expr.matchAll(/\$(\w+)/g)) if (!v!.startsWith('__')) expect(names, `${p.title}: $${v}`).toContain(v);
  });

  it('uses only metrics and labels the broker and switch processes export, in PromQL that parses', () => {
    expect(series.size).toBeGreaterThan(40);
    expect(series.get('el_switch_heartbeats_total')).toBeDefined();
    expect(series.get('el_trunk_up')?.has('peer')).toBe(true);
    expect(series.get('el_broker_redis_command_duration_seconds_bucket')?.has('op')).toBe(true);
    expect(dashboardProblems(dashboardSchema.parse(raw), series)).toEqual([]);
  });

  it('covers nodes, segments, drops by reason, sessions, trunks, heartbeats, logins and failover', () => {
    const d = dashboardSchema.parse(raw);
    const exprs = d.panels.flatMap((p) => (p.type === 'row' ? [] : (p as QueryPanel).targets.map((t) => t.expr)));
    const some = (re: RegExp) => exprs.some((e) => re.test(e));
    expect(some(/by \(instance\) \(el_switch_sessions/)).toBe(true);
    expect(some(/by \(segment\) \(el_switch_sessions/)).toBe(true);
    expect(some(/by \(reason\) \(rate\(el_switch_frames_dropped_total/)).toBe(true);
    expect(some(/el_switch_heartbeats_total/)).toBe(true);
    expect(some(/el_broker_heartbeats_total/)).toBe(true);
    expect(some(/by \(result\) \(rate\(el_broker_logins_total/)).toBe(true);
    for (const m of ['el_trunk_up', 'el_trunk_connects_total', 'el_trunk_frames_total', 'el_trunk_bytes_total', 'el_trunk_remote_endpoints', 'el_trunk_announcements_total', 'el_trunk_frozen_macs', 'el_trunk_mac_freezes_total', 'el_trunk_dropped_frames_total', 'el_trunk_downs_total']) expect(some(new RegExp(`\\b${m}\\b`)), m).toBe(true);
    for (const m of ['el_switch_admissions_total', 'el_broker_nodes_suspect', 'el_broker_node_suspicions_total', 'el_broker_trunk_losses_withdrawn_total']) expect(some(new RegExp(`\\b${m}\\b`)), m).toBe(true);
    expect(d.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['Overview', 'Switch nodes', 'Segments', 'Drops', 'Trunks', 'Heartbeats', 'Brokers', 'Failover']);
  });

  it('catches a misspelled metric, a label the metric lacks, a legend label and broken PromQL (copies)', () => {
    const check = (edit: (d: Dashboard) => void) => {
      const copy = dashboardSchema.parse(structuredClone(raw));
      edit(copy);
      return dashboardProblems(copy, series).join('\n');
    };
    const first = (d: Dashboard) => d.panels.find((p) => p.type !== 'row') as QueryPanel;
    expect(check(() => {})).toBe('');
    expect(check((d) => (first(d).targets[0]!.expr = 'sum(el_switch_sesions)'))).toMatch(/unknown metric el_switch_sesions/);
    expect(check((d) => (first(d).targets[0]!.expr = 'sum(el_switch_sessions{reason="x"})'))).toMatch(/el_switch_sessions has no label reason/);
    expect(check((d) => (first(d).targets[0]!.expr = 'sum by (segmnet) (el_switch_sessions)'))).toMatch(/grouping by segmnet/);
    expect(check((d) => (first(d).targets[0]!.legendFormat = '{{reason}}'))).toMatch(/legend shows \{\{reason\}\}/);
    expect(check((d) => (first(d).targets[0]!.expr = 'sum(rate(el_switch_sessions[5m])'))).toMatch(/syntax error/);
    expect(() => dashboardSchema.parse({ ...(raw as object), panels: [{ ...first(dashboardSchema.parse(raw)), gridPos: { x: 20, y: 0, w: 8, h: 4 } }] })).toThrow(/x \+ w must be at most 24/);
  });
});
