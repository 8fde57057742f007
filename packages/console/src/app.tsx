/** The console's shell: sign-in state, the header with navigation and sign-out, the pages. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Api } from './api.js';
import { errorText } from './components/confirm.js';
import { Ctx, useApp, useLiveVersion } from './hooks.js';
import { Live } from './live.js';
import { Audit } from './pages/audit.js';
import { Trunks } from './pages/trunks.js';
import { Login } from './pages/login.js';
import { Overview } from './pages/overview.js';
import { Segment } from './pages/segment.js';
import { Session } from './pages/session.js';
import { Users } from './pages/users.js';
import { href, useRoute, type Route } from './route.js';

export function App({ api, live: given }: { api: Api; live?: Live }) {
  const live = useMemo(() => given ?? new Live(), [given]);
  const [who, setWho] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string>();

  useEffect(() => {
    api.resume().then(
      (w) => setWho(w?.who ?? null),
      (e: unknown) => {
        setError(errorText(e));
        setWho(null);
      },
    );
  }, [api]);
  useEffect(() => {
    if (!who) return;
    live.start();
    return () => live.stop();
  }, [who, live]);
  if ('onSignedOut' in api) (api as { onSignedOut?: () => void }).onSignedOut = () => setWho(null);

  const ctx = useMemo(() => ({ api, live }), [api, live]);
  if (who === undefined) return <p class="loading">Loading…</p>;
  return (
    <Ctx.Provider value={ctx}>
      {who === null ? (
        <>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <Login onSignedIn={(w) => setWho(w.who)} />
        </>
      ) : (
        <Shell who={who} onSignOut={async () => {
          try {
            await api.logout();
          } finally {
            setWho(null);
          }
        }} />
      )}
    </Ctx.Provider>
  );
}

function Shell({ who, onSignOut }: { who: string; onSignOut: () => Promise<void> }) {
  const route = useRoute();
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Emotion Link</span>
        <nav aria-label="Main">
          <a href={href.overview()} aria-current={route.page === 'overview' ? 'page' : undefined}>
            Overview
          </a>
          <a href={href.trunks()} aria-current={route.page === 'trunks' ? 'page' : undefined}>
            Trunks
          </a>
          <a href={href.users()} aria-current={route.page === 'users' ? 'page' : undefined}>
            Users
          </a>
          <a href={href.audit()} aria-current={route.page === 'audit' ? 'page' : undefined}>
            Audit log
          </a>
        </nav>
        <LiveBadge />
        <span class="who" title="Signed in as">
          {who}
        </span>
        <button type="button" onClick={() => void onSignOut()}>
          Sign out
        </button>
      </header>
      <Page route={route} />
    </>
  );
}

function LiveBadge() {
  useLiveVersion();
  const { state } = useApp().live;
  return (
    <span class={`badge live ${state}`} role="status" aria-label={`Live statistics: ${state}`}>
      {state === 'open' ? 'live' : state}
    </span>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <Overview />;
    case 'segment':
      return <Segment key={route.name} name={route.name} />;
    case 'session':
      return <Session key={route.id} id={route.id} />;
    case 'users':
      return <Users />;
    case 'audit':
      return <Audit />;
    case 'trunks':
      return <Trunks />;
    case 'missing':
      return (
        <main id="main" tabIndex={-1}>
          <h1>Not found</h1>
          <p>
            Nothing at <code>{route.path}</code>. <a href={href.overview()}>Back to the overview</a>.
          </p>
        </main>
      );
  }
}
