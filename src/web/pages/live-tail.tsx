import { useCallback, useState } from 'preact/hooks';
import { LevelBadge } from '../components/badges.tsx';
import { Empty } from '../components/states.tsx';
import { cell, formatTime } from '../format.ts';
import { recentLive, useLiveItems, useLiveStatus } from '../live.ts';
import type { LiveItem } from '../types.ts';

const SHOWN = 200;

export function LivePage() {
  const [items, setItems] = useState<LiveItem[]>(recentLive);
  const [paused, setPaused] = useState(false);
  const [kinds, setKinds] = useState<'all' | 'alert'>('all');
  const status = useLiveStatus();
  useLiveItems(
    useCallback(
      (item: LiveItem) => {
        if (!paused) setItems((prev) => [item, ...prev].slice(0, SHOWN));
      },
      [paused],
    ),
  );
  const shown = kinds === 'all' ? items : items.filter((i) => i.kind === 'alert');
  return (
    <section aria-labelledby="live-title">
      <h1 id="live-title">Live tail</h1>
      <div class="toolbar">
        <span class={`conn conn-${status}`} role="status">
          {status === 'open' ? 'connected' : status}
        </span>
        <button type="button" aria-pressed={paused} onClick={() => setPaused(!paused)}>
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
