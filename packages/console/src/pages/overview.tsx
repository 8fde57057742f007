/** Nodes, segments and totals; live throughput, packet rate and drops per node and segment. */
import type { NodeView, SegmentView } from '../api.js';
import { Chart } from '../components/chart.js';
import { ConfirmButton, errorText } from '../components/confirm.js';
import { DataTable, type Column } from '../components/data-table.js';
import { useApp, useLiveVersion, useLoad } from '../hooks.js';
import { href } from '../route.js';
import { age, bitRateBps, packetRate, si } from '../units.js';

const REFRESH_MS = 5000;

export function Overview() {
  const { api, live } = useApp();
  const version = useLiveVersion();
  const { data, error, reload } = useLoad(() => api.overview(), [api], REFRESH_MS);
  const last = live.last;

  const nodeColumns: Column<NodeView>[] = [
    { key: 'node', label: 'Node', value: (n) => n.node, render: (n) => <span class="mono">{n.node}</span> },
    {
      key: 'health',
      label: 'Health',
      value: (n) => (n.healthy ? 1 : 0),
      render: (n) => <span class={`badge ${n.healthy ? 'ok' : 'bad'}`}>{n.healthy ? 'healthy' : 'unhealthy'}</span>,
    },
    { key: 'draining', label: 'Draining', value: (n) => (n.draining ? 1 : 0), render: (n) => (n.draining ? <span class="badge warn">draining</span> : 'no') },
    { key: 'sessions', label: 'Sessions', numeric: true, value: (n) => n.sessions, render: (n) => `${n.sessions} / ${n.capacity}` },
    { key: 'load', label: 'Load', numeric: true, value: (n) => n.load, render: (n) => `${(n.load * 100).toFixed(n.load < 0.1 ? 2 : 0)} %` },
    { key: 'version', label: 'Version', value: (n) => n.version ?? '', render: (n) => n.version ?? '–' },
    { key: 'where', label: 'Address', value: (n) => n.hosts.join(' '), render: (n) => <span class="mono">{n.inProcess ? 'in this process' : `${n.hosts.join(', ')}:${n.port}`}</span> },
    { key: 'seen', label: 'Last report', value: (n) => n.seenAt, render: (n) => `${age(n.seenAt)} ago` },
    {
      key: 'actions',
      label: 'Actions',
      render: (n) => (
        <ConfirmButton
          label="Drain"
          name={`Drain node ${n.node}`}
          danger
          disabled={n.draining || n.static === true}
          question={
            <>
              Drain node <strong>{n.node}</strong>? Its {n.sessions} session(s) are sent to other nodes and it takes no new ones until it restarts.
            </>
          }
          action={() => api.drain(n.node)}
          done={reload}
        />
      ),
    },
  ];

  const segmentColumns: Column<SegmentView>[] = [
    { key: 'name', label: 'Segment', value: (s) => s.name, render: (s) => <a href={href.segment(s.name)}>{s.name}</a> },
    { key: 'mode', label: 'Mode', value: (s) => s.mode, render: (s) => s.mode.toUpperCase() },
    { key: 'sessions', label: 'Sessions', numeric: true, value: (s) => last?.segments[s.name]?.sessions ?? s.sessions, render: (s) => last?.segments[s.name]?.sessions ?? s.sessions },
    { key: 'nodes', label: 'Nodes', numeric: true, value: (s) => s.nodes, render: (s) => s.nodes },
    {
      key: 'pools',
      label: 'Pools (used / free)',
      render: (s) => (
        <ul class="plain">
          {s.pools.map((p) => (
            <li key={p.cidr}>
              <span class="mono">{p.cidr}</span> {p.used} / {si(p.free, '')}
            </li>
          ))}
        </ul>
      ),
    },
    { key: 'rate', label: 'Now (rx / tx)', numeric: true, value: (s) => (last?.segments[s.name]?.rxBps ?? 0) + (last?.segments[s.name]?.txBps ?? 0), render: (s) => rateText(last?.segments[s.name]) },
  ];

  const t = data?.totals;
  const nowRates = last ? Object.values(last.nodes).reduce((a, r) => ({ rx: a.rx + r.rxBps, tx: a.tx + r.txBps, rxp: a.rxp + r.rxPps, txp: a.txp + r.txPps }), { rx: 0, tx: 0, rxp: 0, txp: 0 }) : t ? { rx: t.rxBps, tx: t.txBps, rxp: t.rxPps, txp: t.txPps } : undefined;

  return (
    <main id="main" tabIndex={-1}>
      <h1>Overview</h1>
      {error !== undefined && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
      {t && (
        <dl class="totals" aria-label="Totals">
          <div>
            <dt>Nodes</dt>
            <dd>{t.nodes}</dd>
          </div>
          <div>
            <dt>Sessions</dt>
            <dd>{t.sessions}</dd>
          </div>
          <div>
            <dt>Segments</dt>
            <dd>{t.segments}</dd>
          </div>
          <div>
            <dt>Throughput rx / tx</dt>
            <dd>{nowRates ? `${bitRateBps(nowRates.rx * 8)} / ${bitRateBps(nowRates.tx * 8)}` : '–'}</dd>
          </div>
          <div>
            <dt>Packets rx / tx</dt>
            <dd>{nowRates ? `${packetRate(nowRates.rxp)} / ${packetRate(nowRates.txp)}` : '–'}</dd>
          </div>
        </dl>
      )}
      {data && (
        <>
          <section aria-labelledby="nodes-h">
            <h2 id="nodes-h">Nodes</h2>
            <DataTable caption="Nodes" rows={data.nodes} columns={nodeColumns} rowKey={(n) => n.node} initialSort={{ key: 'node', dir: 'ascending' }} />
          </section>
          <section aria-labelledby="segments-h">
            <h2 id="segments-h">Segments</h2>
            <DataTable caption="Segments" rows={data.segments} columns={segmentColumns} rowKey={(s) => s.name} initialSort={{ key: 'name', dir: 'ascending' }} />
          </section>
          <section aria-labelledby="node-charts-h">
            <h2 id="node-charts-h">Per node</h2>
            <div class="groups">
              {data.nodes.map((n) => (
                <div class="chart-group" key={n.node}>
                  <h3 class="mono">{n.node}</h3>
                  <div class="charts">
                    <Chart id={`node:${n.node}:bits`} title="Throughput" series={live.series.peek(`node:${n.node}:bits`)} format={bitRateBps} version={version} />
                    <Chart id={`node:${n.node}:packets`} title="Packet rate" series={live.series.peek(`node:${n.node}:packets`)} format={packetRate} version={version} />
                  </div>
                  <Drops node={n.node} version={version} />
                </div>
              ))}
            </div>
          </section>
          <section aria-labelledby="segment-charts-h">
            <h2 id="segment-charts-h">Per segment</h2>
            <div class="groups">
              {data.segments.map((s) => (
                <div class="chart-group" key={s.name}>
                  <h3>
                    <a href={href.segment(s.name)}>{s.name}</a>
                  </h3>
                  <div class="charts">
                    <Chart id={`segment:${s.name}:bits`} title="Throughput" series={live.series.peek(`segment:${s.name}:bits`)} format={bitRateBps} version={version} />
                    <Chart id={`segment:${s.name}:packets`} title="Packet rate" series={live.series.peek(`segment:${s.name}:packets`)} format={packetRate} version={version} />
                  </div>
                </div>
              ))}
            </div>
          </section>
        </>
      )}
    </main>
  );
}

function rateText(r: { rxBps: number; txBps: number } | undefined): string {
  return r ? `${bitRateBps(r.rxBps * 8)} / ${bitRateBps(r.txBps * 8)}` : '–';
}

const dropsPerSecond = (v: number) => `${si(v, '').trim()}/s`;

/** A node's drops by reason: a chart once any reason showed up, and the current rates. */
function Drops({ node, version }: { node: string; version: number }) {
  const { live } = useApp();
  const s = live.series.peek(`node:${node}:drops`);
  const now = live.last?.nodes[node]?.drops ?? {};
  const reasons = Object.keys(now).sort();
  return (
    <div class="drops">
      {s ? <Chart key={s.names.join(',')} id={`node:${node}:drops`} title="Drops by reason" series={s} format={dropsPerSecond} version={version} /> : <p class="muted">Drops by reason: none reported.</p>}
      {reasons.length > 0 && (
        <table class="compact">
          <caption>Drops now</caption>
          <thead>
            <tr>
              <th scope="col">Reason</th>
              <th scope="col" class="num">
                Per second
              </th>
            </tr>
          </thead>
          <tbody>
            {reasons.map((r) => (
              <tr key={r}>
                <td class="mono">{r}</td>
                <td class="num">{dropsPerSecond(now[r]!)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
