/** Every switch node's trunks to its peer nodes (GET /v1/admin/trunks, from the heartbeats). */
import type { TrunkView } from '../api.js';
import { errorText } from '../components/confirm.js';
import { DataTable, type Column } from '../components/data-table.js';
import { useApp, useLoad } from '../hooks.js';
import { age, bytes } from '../units.js';

const dropsText = (t: TrunkView): string =>
  Object.entries(t.drops)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ') || '–';
const dropTotal = (t: TrunkView): number => Object.values(t.drops).reduce((n, x) => n + x, 0);

const columns: Column<TrunkView>[] = [
  { key: 'node', label: 'Node', value: (t) => t.node, render: (t) => t.node },
  { key: 'peer', label: 'Peer', value: (t) => t.peer, render: (t) => t.peer },
  { key: 'state', label: 'State', value: (t) => t.state, render: (t) => <span class={`badge ${t.state === 'up' ? 'ok' : 'bad'}`}>{t.state}</span> },
  { key: 'since', label: 'Since', value: (t) => t.since, render: (t) => <time dateTime={t.since} title={new Date(t.since).toLocaleString()}>{age(t.since)}</time> },
  { key: 'segments', label: 'Segments', value: (t) => t.segments.join(' '), render: (t) => t.segments.join(', ') || '–' },
  { key: 'in', label: 'In', numeric: true, value: (t) => t.bytesIn, render: (t) => `${bytes(t.bytesIn)} (${t.framesIn} frames)` },
  { key: 'out', label: 'Out', numeric: true, value: (t) => t.bytesOut, render: (t) => `${bytes(t.bytesOut)} (${t.framesOut} frames)` },
  { key: 'drops', label: 'Dropped', numeric: true, value: (t) => dropTotal(t), render: (t) => <span title={dropsText(t)}>{dropsText(t)}</span> },
  { key: 'announced', label: 'Announced', numeric: true, value: (t) => t.announced, render: (t) => String(t.announced) },
  { key: 'learned', label: 'Learned', numeric: true, value: (t) => t.learned, render: (t) => String(t.learned) },
];

export function Trunks() {
  const { api } = useApp();
  const { data, error } = useLoad(() => api.trunks(), [api], 5_000);
  return (
    <main id="main" tabIndex={-1}>
      <h1>Trunks</h1>
      <p>Each switch node's trunks to the other nodes of its segments, as of its last heartbeat: traffic and drops since the node started, endpoints (MACs, routes) it announces to the peer and has learned from it.</p>
      {error !== undefined && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
      {data && <DataTable caption="Trunks" search rows={data} columns={columns} rowKey={(t) => `${t.node} ${t.peer}`} initialSort={{ key: 'node', dir: 'ascending' }} empty="No trunks: no node reports one (switch.trunk unset, or a single node)." />}
    </main>
  );
}
