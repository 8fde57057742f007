/** The audit log: who did what to what, and how it ended (newest first). */
import type { AuditEntry } from '../api.js';
import { errorText } from '../components/confirm.js';
import { DataTable, type Column } from '../components/data-table.js';
import { useApp, useLoad } from '../hooks.js';

const LIMIT = 200;

const columns: Column<AuditEntry>[] = [
  { key: 't', label: 'When', value: (e) => e.t, render: (e) => <time dateTime={e.t}>{new Date(e.t).toLocaleString()}</time> },
  { key: 'who', label: 'Who', value: (e) => e.who, render: (e) => e.who },
  { key: 'action', label: 'Action', value: (e) => e.action, render: (e) => <span class="mono">{e.action}</span> },
  { key: 'target', label: 'Target', value: (e) => e.target, render: (e) => <span class="mono">{e.target}</span> },
  { key: 'result', label: 'Result', value: (e) => e.result, render: (e) => <span class={`badge ${e.result === 'ok' ? 'ok' : 'bad'}`}>{e.result}</span> },
];

export function Audit() {
  const { api } = useApp();
  const { data, error } = useLoad(() => api.audit(LIMIT), [api], 10_000);
  return (
    <main id="main" tabIndex={-1}>
      <h1>Audit log</h1>
      {error !== undefined && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
      {data && <DataTable caption={`Last ${LIMIT} actions`} search rows={data} columns={columns} rowKey={(e) => `${e.t} ${e.action} ${e.target}`} initialSort={{ key: 't', dir: 'descending' }} empty="No actions recorded yet." />}
    </main>
  );
}
