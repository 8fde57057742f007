/** Sign in with the admin token or an admin user's name and password. */
import { useState } from 'preact/hooks';
import type { Who } from '../api.js';
import { errorText } from '../components/confirm.js';
import { useApp } from '../hooks.js';

export function Login({ onSignedIn }: { onSignedIn: (w: Who) => void }) {
  const { api } = useApp();
  const [mode, setMode] = useState<'token' | 'user'>('token');
  const [token, setToken] = useState('');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api.login(mode === 'token' ? { token } : { user, password }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" tabIndex={-1} class="login">
      <h1>Emotion Link console</h1>
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h2 id="signin-title">Sign in</h2>
        <fieldset>
          <legend>Sign in with</legend>
          <label class="inline">
            <input type="radio" name="mode" value="token" checked={mode === 'token'} onChange={() => setMode('token')} /> the admin token
          </label>
          <label class="inline">
            <input type="radio" name="mode" value="user" checked={mode === 'user'} onChange={() => setMode('user')} /> an admin user
          </label>
        </fieldset>
        {mode === 'token' ? (
          <label>
            Admin token
            <input type="password" name="token" autoComplete="current-password" required value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
          </label>
        ) : (
          <>
            <label>
              User name
              <input type="text" name="user" autoComplete="username" required value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
            </label>
            <label>
              Password
              <input type="password" name="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
            </label>
          </>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        <p class="hint">
          <code>elink up</code> keeps the admin token in <code>admin-token</code> in its state directory; a standalone broker takes <code>broker.adminToken</code>. Admin users are users with <code>admin: true</code>.
        </p>
      </form>
    </main>
  );
}
