import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { LevelBadge } from '../components/badges.tsx';
import { Empty } from '../components/states.tsx';
import { cell, formatTime } from '../format.ts';
import { recentLive, useLiveItems, useLiveStatus } from '../live.ts';
import type { LiveItem } from '../types.ts';

const SHOWN = 200;
const FLUSH_MS = 500;

export function LivePage() {
  const [items, setItems] = useState<LiveItem[]>(() => recentLive().slice(0, SHOWN));
  const [paused, setPaused] = useState(false);
  const [kinds, setKinds] = useState<'all' | 'alert'>('all');
  const status = useLiveStatus();
  // Items arrive up to ~20 a second: render them in batches, not one re-render each.
  const pending = useRef<LiveItem[]>([]);
  useLiveItems(
    useCallback(
      (item: LiveItem) => {
        if (!paused) pending.current.push(item);
      },
      [paused],
    ),
  );
  useEffect(() => {
    const timer = setInterval(() => {
      if (pending.current.length === 0) return;
      const batch = pending.current.reverse();
      pending.current = [];
      setItems((prev) => [...batch, ...prev].slice(0, SHOWN));
    }, FLUSH_MS);
    return () => clearInterval(timer);
  }, []);
  const shown = kinds === 'all' ? items : items.filter((i) => i.kind === 'alert');
  return (
    <section aria-labelledby="live-title">
      <h1 id="live-title">Live tail</h1>
      <div class="toolbar">
        <span class={`conn conn-${status}`} role="status">
          {status === 'open' ? 'connected' : status}
        </span>
        <button
          type="button"
          aria-pressed={paused}
          onClick={() => {
            pending.current = [];
            setPaused(!paused);
          }}
        >
          {paused ? 'Resume' : 'Pause'}
        </button>
        <label>
          Show
          <select value={kinds} onChange={(e) => setKinds(e.currentTarget.value as 'all' | 'alert')}>
            <option value="all">alerts and sampled events</option>
            <option value="alert">alerts only</option>
          </select>
        </label>
      </div>
      {shown.length === 0 ? (
        <Empty>Waiting for live traffic… alerts and a sample of events appear here as they happen.</Empty>
      ) : (
        <ul class="tail" aria-live="polite" aria-relevant="additions">
          {shown.map((i) =>
            i.kind === 'alert' ? (
              <li key={i.seq} class="tail-alert">
                <LevelBadge level={i.data.level} />{' '}
                <a href={`#/alerts/${encodeURIComponent(i.data.id)}`}>{i.data.rule_title}</a>{' '}
                <span class="mono">{i.data.entity ?? ''}</span> <span class="sub">{i.data.summary}</span>
              </li>
            ) : (
              <li key={i.seq} class="tail-event">
                <time>{formatTime(i.data.event_time)}</time> <span class="tag">{i.data.log_type}</span>{' '}
                <span class="mono">
                  {cell(i.data.src_ip)} → {cell(i.data.dst_ip)}
                  {i.data.dst_port ? `:${i.data.dst_port}` : ''}
                </span>{' '}
                {i.data.user ? <span class="mono">{String(i.data.user)}</span> : null}{' '}
                <span class="sub">{i.data.summary}</span>
              </li>
            ),
          )}
        </ul>
      )}
    </section>
  );
}
