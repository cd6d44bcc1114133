import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { LevelBadge } from '../components/badges.tsx';
import { Empty } from '../components/states.tsx';
import { cell, currentZoneName, formatTime } from '../format.ts';
import { recentLive, useLiveItems, useLiveStatus } from '../live.ts';
import { liveTime, mergeLive } from '../model.ts';
import type { LiveEvent, LiveItem } from '../types.ts';

const SHOWN = 200;
const FLUSH_MS = 500;

/** Source → destination, or the host a host-based event is about (threat events have no addresses). */
function where(e: LiveEvent): string {
  if (e.src_ip && !e.dst_ip) return String(e.src_ip);
  if (e.src_ip || e.dst_ip)
    return `${cell(e.src_ip)} → ${cell(e.dst_ip)}${e.dst_port ? `:${e.dst_port}` : ''}`;
  return e.host ? `host ${String(e.host)}` : '';
}

export function LivePage() {
  const [items, setItems] = useState<LiveItem[]>(() => mergeLive([], recentLive(), SHOWN));
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
      const batch = pending.current;
      pending.current = [];
      setItems((prev) => mergeLive(prev, batch, SHOWN));
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
        <span class="hint">
          Newest first by event time, in {currentZoneName()}; an alert shows its latest evidence.
        </span>
      </div>
      {shown.length === 0 ? (
        <Empty>Waiting for live traffic… alerts and a sample of events appear here as they happen.</Empty>
      ) : (
        <ul class="tail" aria-live="polite" aria-relevant="additions">
          {shown.map((i) =>
            i.kind === 'alert' ? (
              <li key={`a-${i.data.id}`} class="tail-alert">
                <time>{formatTime(liveTime(i))}</time> <LevelBadge level={i.data.level} />{' '}
                <a href={`#/alerts/${encodeURIComponent(i.data.id)}`}>{i.data.rule_title}</a>{' '}
                <span class="mono">{i.data.entity ?? ''}</span> <span class="sub">{i.data.summary}</span>
              </li>
            ) : (
              <li key={i.seq} class="tail-event">
                <time>{formatTime(liveTime(i))}</time> <span class="tag">{i.data.log_type}</span>{' '}
                <span class="mono">{where(i.data)}</span>{' '}
                {i.data.user ? <span class="mono">{String(i.data.user)}</span> : null}{' '}
                {i.data.summary !== i.data.log_type && <span class="sub">{i.data.summary}</span>}
              </li>
            ),
          )}
        </ul>
      )}
    </section>
  );
}
