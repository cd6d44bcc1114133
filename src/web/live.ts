import { useEffect, useState } from 'preact/hooks';
import type { LiveItem } from './types.ts';

/**
 * One EventSource for the whole dashboard. EventSource cannot send headers, so the token goes in
 * `?token=`; the browser reconnects by itself and sends Last-Event-ID, so nothing is missed while
 * the server still holds it. Pages subscribe to items; the live tail keeps a bounded history.
 */
export type LiveStatus = 'connecting' | 'open' | 'closed';

const MAX_KEPT = 300;
const listeners = new Set<(item: LiveItem) => void>();
const statusListeners = new Set<(s: LiveStatus) => void>();
let source: EventSource | null = null;
let status: LiveStatus = 'closed';
let recent: LiveItem[] = [];

function setStatus(s: LiveStatus): void {
  status = s;
  for (const l of statusListeners) l(s);
}

function receive(kind: 'alert' | 'event', e: MessageEvent<string>): void {
  const item = { seq: Number(e.lastEventId), kind, data: JSON.parse(e.data) } as LiveItem;
  recent = [item, ...recent].slice(0, MAX_KEPT);
  for (const l of listeners) l(item);
}

export function connectLive(token: string): void {
  disconnectLive();
  setStatus('connecting');
  source = new EventSource(`/api/stream?token=${encodeURIComponent(token)}`);
  source.addEventListener('open', () => setStatus('open'));
  source.addEventListener('error', () =>
    setStatus(source?.readyState === EventSource.CLOSED ? 'closed' : 'connecting'),
  );
  source.addEventListener('alert', (e) => receive('alert', e as MessageEvent<string>));
  source.addEventListener('event', (e) => receive('event', e as MessageEvent<string>));
}

export function disconnectLive(): void {
  source?.close();
  source = null;
  recent = [];
  setStatus('closed');
}

export function recentLive(): LiveItem[] {
  return recent;
}

/** Calls `listener` for each item from now on, while the component is mounted. */
export function useLiveItems(listener: (item: LiveItem) => void): void {
  useEffect(() => {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, [listener]);
}

export function useLiveStatus(): LiveStatus {
  const [s, setS] = useState(status);
  useEffect(() => {
    statusListeners.add(setS);
    setS(status);
    return () => {
      statusListeners.delete(setS);
    };
  }, []);
  return s;
}
