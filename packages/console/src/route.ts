/** Hash routes (#/segments/lab): the broker serves one index.html and no route needs a server. */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'overview' }
  | { page: 'segment'; name: string }
  | { page: 'session'; id: string }
  | { page: 'users' }
  | { page: 'audit' }
  | { page: 'trunks' }
  | { page: 'missing'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts.length === 0) return { page: 'overview' };
  if (parts[0] === 'segments' && parts.length === 2) return { page: 'segment', name: parts[1]! };
  if (parts[0] === 'sessions' && parts.length === 2) return { page: 'session', id: parts[1]! };
  if (parts[0] === 'users' && parts.length === 1) return { page: 'users' };
  if (parts[0] === 'audit' && parts.length === 1) return { page: 'audit' };
  if (parts[0] === 'trunks' && parts.length === 1) return { page: 'trunks' };
  return { page: 'missing', path };
}

export const href = {
  overview: () => '#/',
  segment: (name: string) => `#/segments/${encodeURIComponent(name)}`,
  session: (id: string) => `#/sessions/${encodeURIComponent(id)}`,
  users: () => '#/users',
  audit: () => '#/audit',
  trunks: () => '#/trunks',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
