/** One segment: its sessions (search, sort, disconnect), its MAC table or routes, its charts. */
import type { SessionView, TableEntry } from '../api.js';
import { Chart } from '../components/chart.js';
import { ConfirmButton, errorText } from '../components/confirm.js';
import { DataTable, type Column } from '../components/data-table.js';
import { useApp, useLiveVersion, useLoad } from '../hooks.js';
import { href } from '../route.js';
import { age, bitRateBps, bytes, packetRate } from '../units.js';

const REFRESH_MS = 3000;

/** The rates of a session: the newest live event's when it has them, else the listing's. */
export function useSessionRate() {
  const { live } = useApp();
  return (s: SessionView) => live.last?.sessions[s.id] ?? { rxBps: s.rxBps, txBps: s.txBps };
}

export function sessionColumns(rate: (s: SessionView) => { rxBps: number; txBps: number }, disconnect: (s: SessionView) => Promise<void>, after: () => void): Column<SessionView>[] {
  return [
    { key: 'user', label: 'User', value: (s) => s.user, render: (s) => s.user },
    { key: 'device', label: 'Device', value: (s) => s.device, render: (s) => <a href={href.session(s.id)}>{s.device}</a> },
    {
      key: 'addresses',
      label: 'Addresses',
      value: (s) => s.addresses.join(' '),
      render: (s) => (
        <ul class="plain mono">
          {s.addresses.map((a) => (
            <li key={a}>{a}</li>
          ))}
        </ul>
      ),
    },
    { key: 'mac', label: 'MAC', value: (s) => s.mac ?? '', render: (s) => <span class="mono">{s.mac ?? '–'}</span> },
    { key: 'node', label: 'Node', value: (s) => s.node, render: (s) => <span class="mono">{s.node}</span> },
    { key: 'since', label: 'Since', value: (s) => s.since, render: (s) => <time dateTime={s.since} title={s.since}>{age(s.since)}</time> },
    { key: 'rx', label: 'Bytes in', numeric: true, value: (s) => s.rxBytes, render: (s) => bytes(s.rxBytes) },
    { key: 'tx', label: 'Bytes out', numeric: true, value: (s) => s.txBytes, render: (s) => bytes(s.txBytes) },
    { key: 'rate', label: 'Now in / out', numeric: true, value: (s) => rate(s).rxBps + rate(s).txBps, render: (s) => `${bitRateBps(rate(s).rxBps * 8)} / ${bitRateBps(rate(s).txBps * 8)}` },
    {
      key: 'actions',
      label: 'Actions',
      render: (s) => (
        <ConfirmButton
          label="Disconnect"
          name={`Disconnect ${s.user}/${s.device}`}
          danger
          question={
            <>
              Disconnect the session of <strong>{s.user}</strong> on <strong>{s.device}</strong> ({s.addresses.join(', ')})? Its client gets <code>bye</code>.
            </>
          }
          action={() => disconnect(s)}
          done={after}
        />
      ),
    },
  ];
}

export function Segment({ name }: { name: string }) {
  const { api, live } = useApp();
  const version = useLiveVersion();
  const sessions = useLoad(() => api.sessions(name), [api, name], REFRESH_MS);
  const table = useLoad(() => api.table(name), [api, name], REFRESH_MS);
  const rate = useSessionRate();
  const byId = new Map((sessions.data ?? []).map((s) => [s.id, s]));

  const portText = (e: TableEntry) => {
    const s = byId.get(e.port);
    return s ? <a href={href.session(s.id)}>{`${s.user}/${s.device}`}</a> : <span class="mono">{e.port}</span>;
  };
  const tableColumns: Column<TableEntry>[] = [
    { key: 'key', label: table.data?.kind === 'route' ? 'Route' : 'MAC', value: (e) => e.key, render: (e) => <span class="mono">{e.key}</span> },
    { key: 'port', label: 'Port', value: (e) => e.port, render: portText },
    { key: 'node', label: 'Node', value: (e) => e.node, render: (e) => <span class="mono">{e.node}</span> },
    { key: 'user', label: 'User', value: (e) => e.user ?? '', render: (e) => e.user ?? '–' },
  ];

  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href={href.overview()}>Overview</a> › segment
      </p>
      <h1>
        Segment <span class="mono">{name}</span>
      </h1>
      <div class="charts">
        <Chart id={`segment:${name}:bits`} title="Throughput" series={live.series.peek(`segment:${name}:bits`)} format={bitRateBps} version={version} />
        <Chart id={`segment:${name}:packets`} title="Packet rate" series={live.series.peek(`segment:${name}:packets`)} format={packetRate} version={version} />
      </div>
      <section aria-labelledby="sessions-h">
        <h2 id="sessions-h">Sessions</h2>
        {sessions.error !== undefined && (
          <p class="error" role="alert">
            {errorText(sessions.error)}
          </p>
        )}
        {sessions.data && <DataTable caption="Sessions" search rows={sessions.data} columns={sessionColumns(rate, (s) => api.disconnect(s.id), sessions.reload)} rowKey={(s) => s.id} initialSort={{ key: 'user', dir: 'ascending' }} empty="No sessions." />}
      </section>
      <section aria-labelledby="table-h">
        <h2 id="table-h">{table.data?.kind === 'route' ? 'Routes' : 'MAC table'}</h2>
        {table.error !== undefined && (
          <p class="error" role="alert">
            {errorText(table.error)}
          </p>
        )}
        {table.data && <DataTable caption={table.data.kind === 'route' ? 'Routes' : 'MAC table'} search searchLabel={table.data.kind === 'route' ? 'Search routes' : 'Search the MAC table'} rows={table.data.entries} columns={tableColumns} rowKey={(e) => `${e.node} ${e.key}`} initialSort={{ key: 'key', dir: 'ascending' }} empty="No entries." />}
      </section>
    </main>
  );
}
