/** Users: add, enable/disable, reset the password, set the DTCP secret, delete. */
import { useState } from 'preact/hooks';
import type { UserView } from '../api.js';
import { ConfirmButton, errorText } from '../components/confirm.js';
import { DataTable, type Column } from '../components/data-table.js';
import { useApp, useLoad } from '../hooks.js';

export function Users() {
  const { api } = useApp();
  const users = useLoad(() => api.users(), [api]);
  const segments = useLoad(async () => (await api.overview()).segments.map((s) => s.name), [api]);
  const reload = users.reload;

  const readOnly = (u: UserView) => u.source === 'config';
  const columns: Column<UserView>[] = [
    { key: 'name', label: 'Name', value: (u) => u.name, render: (u) => u.name },
    { key: 'segments', label: 'Segments', value: (u) => u.segments.join(' '), render: (u) => u.segments.join(', ') },
    { key: 'enabled', label: 'Enabled', value: (u) => (u.enabled === false ? 0 : 1), render: (u) => (u.enabled === false ? <span class="badge warn">disabled</span> : 'yes') },
    { key: 'admin', label: 'Console', value: (u) => (u.admin ? 1 : 0), render: (u) => (u.admin ? 'admin' : '–') },
    { key: 'digest', label: 'DTCP secret', value: (u) => (u.digest ? 1 : 0), render: (u) => (u.digest ? 'set' : 'none') },
    { key: 'source', label: 'Kept in', value: (u) => u.source, render: (u) => (u.source === 'config' ? 'config file' : 'store') },
    {
      key: 'actions',
      label: 'Actions',
      render: (u) =>
        readOnly(u) ? (
          <span class="muted">change it with elink user</span>
        ) : (
          <div class="row-actions">
            <ConfirmButton
              label={u.enabled === false ? 'Enable' : 'Disable'}
              name={`${u.enabled === false ? 'Enable' : 'Disable'} user ${u.name}`}
              question={u.enabled === false ? `Enable user ${u.name}? Its devices can log in again.` : `Disable user ${u.name}? Its logins are refused until it is enabled again.`}
              action={() => api.setEnabled(u.name, u.enabled === false)}
              done={reload}
            />
            <ConfirmButton label="Reset password" name={`Reset the password of ${u.name}`} question={`A new password for ${u.name}:`} field={{ label: 'New password', minLength: 8 }} action={(v) => api.setPassword(u.name, v)} done={reload} />
            <ConfirmButton label="Set DTCP secret" name={`Set the DTCP secret of ${u.name}`} question={`The DTCP (challenge–response) secret for ${u.name}:`} field={{ label: 'DTCP secret', minLength: 8 }} action={(v) => api.setDigest(u.name, v)} done={reload} />
            <ConfirmButton label="Delete" name={`Delete user ${u.name}`} danger question={`Delete user ${u.name}? It can no longer log in.`} action={() => api.deleteUser(u.name)} done={reload} />
          </div>
        ),
    },
  ];

  return (
    <main id="main" tabIndex={-1}>
      <h1>Users</h1>
      {users.error !== undefined && (
        <p class="error" role="alert">
          {errorText(users.error)}
        </p>
      )}
      {users.data && <DataTable caption="Users" search rows={users.data} columns={columns} rowKey={(u) => u.name} initialSort={{ key: 'name', dir: 'ascending' }} empty="No users." />}
      <AddUser segments={segments.data ?? []} onAdded={reload} />
    </main>
  );
}

function AddUser({ segments, onAdded }: { segments: string[]; onAdded: () => void }) {
  const { api } = useApp();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [admin, setAdmin] = useState(false);
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setStatus(undefined);
    if (chosen.length === 0) {
      setError('Choose at least one segment.');
      return;
    }
    try {
      await api.addUser({ name, password, segments: chosen, ...(admin ? { admin } : {}) });
      setStatus(`User ${name} added.`);
      setName('');
      setPassword('');
      onAdded();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section aria-labelledby="add-user-h">
      <h2 id="add-user-h">Add a user</h2>
      <form class="add-user" onSubmit={submit}>
        <label>
          Name
          <input type="text" required pattern="[A-Za-z0-9._@\-]{1,128}" autoComplete="off" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Password
          <input type="password" required minLength={8} autoComplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <fieldset>
          <legend>Segments</legend>
          {segments.map((s) => (
            <label class="inline" key={s}>
              <input type="checkbox" checked={chosen.includes(s)} onChange={(e) => setChosen((c) => ((e.target as HTMLInputElement).checked ? [...c, s] : c.filter((x) => x !== s)))} /> {s}
            </label>
          ))}
        </fieldset>
        <label class="inline">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin((e.target as HTMLInputElement).checked)} /> may sign in to this console (admin)
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {status && (
          <p class="ok" role="status">
            {status}
          </p>
        )}
        <button type="submit" class="primary">
          Add user
        </button>
      </form>
    </section>
  );
}
