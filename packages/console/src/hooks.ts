import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api.js';
import type { Live } from './live.js';

export interface AppContext {
  api: Api;
  live: Live;
}
export const Ctx = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('no AppContext');
  return c;
}

/** A number that grows with every live event: components that draw series depend on it. */
export function useLiveVersion(): number {
  const { live } = useApp();
  const [v, setV] = useState(0);
  useEffect(() => live.subscribe(() => setV((x) => x + 1)), [live]);
  return v;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  reload: () => void;
}

/** `load` now, and again every `everyMs` (0: once) while mounted; the last answer wins. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs = 0): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const seq = useRef(0);
  const run = useCallback(() => {
    const n = ++seq.current;
    load().then(
      (d) => {
        if (n !== seq.current) return;
        setData(d);
        setError(undefined);
      },
      (e: unknown) => n === seq.current && setError(e),
    );
  }, deps);
  useEffect(() => {
    setData(undefined);
    run();
    if (everyMs <= 0) return;
    const timer = setInterval(run, everyMs);
    return () => clearInterval(timer);
  }, [run, everyMs]);
  return { data, error, reload: run };
}
