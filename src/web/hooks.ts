import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.ts';
import { createPoller, type Poller, type PollState } from './poller.ts';

export interface Loaded<T> extends PollState<T> {
  reload(): void;
}

/**
 * GET `path` whenever it changes, and again `refreshMs` after each answer (0: no refresh). Never
 * blank once something was shown: a new path, a slow refresh or a failed one keep the last data on
 * screen with `stale` set (the page shows a marker); requests never stack (see poller.ts).
 */
export function useApi<T>(path: string | null, refreshMs?: number): Loaded<T> {
  const [state, setState] = useState<PollState<T>>({
    data: null,
    error: null,
    loading: path !== null,
    updatedAt: null,
    stale: false,
  });
  const last = useRef<{ data: T | null; at: number | null }>({ data: null, at: null });
  const poller = useRef<Poller | null>(null);

  useEffect(() => {
    if (path === null) return;
    const p = createPoller<T>({
      load: (signal) => api<T>(path, { signal }),
      refreshMs,
      initial: last.current.data,
      initialUpdatedAt: last.current.at,
      onChange: (s) => {
        if (s.data !== null) last.current = { data: s.data, at: s.updatedAt };
        setState(s);
      },
    });
    poller.current = p;
    p.start();
    return () => p.stop();
  }, [path, refreshMs]);

  const reload = useCallback(() => poller.current?.reload(), []);
  return { ...state, reload };
}
