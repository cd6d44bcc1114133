import { useState } from 'preact/hooks';
import { api, type Role } from '../api.ts';
import { LevelBadge, StatusBadge } from '../components/badges.tsx';
import { ErrorState, Loaded } from '../components/states.tsx';
import { formatNumber, formatTime, label } from '../format.ts';
import { useApi } from '../hooks.ts';
import { canTriage, TRANSITIONS } from '../model.ts';
import type { Alert, EventRow, HistoryEntry } from '../types.ts';
import { EventTable } from './events.tsx';

interface AlertDetail {
  alert: Alert;
  history: HistoryEntry[];
  events: EventRow[];
}

export function AlertDetailPage({ id, role }: { id: string; role: Role | null }) {
  const detail = useApi<AlertDetail>(`/api/alerts/${encodeURIComponent(id)}`);
  return (
    <section aria-labelledby="alert-title">
      <p>
        <a href="#/alerts">← All alerts</a>
      </p>
      <Loaded what="the alert" {...detail}>
        {(d) => <Detail detail={d} role={role} reload={detail.reload} />}
      </Loaded>
    </section>
  );
}

function Detail({ detail, role, reload }: { detail: AlertDetail; role: Role | null; reload: () => void }) {
  const { alert, history, events } = detail;
  const [error, setError] = useState<string | null>(null);
  const [assignee, setAssignee] = useState(alert.assignee ?? '');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);

  async function patch(change: Record<string, unknown>) {
    setBusy(true);
    try {
      await api<Alert>(`/api/alerts/${encodeURIComponent(alert.id)}`, { method: 'PATCH', body: change });
      setError(null);
      reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <h1 id="alert-title">
        <LevelBadge level={alert.level} /> {alert.rule_title}
      </h1>
      <p class="summary">{alert.summary}</p>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={alert.status} />
        </dd>
        <dt>Entity</dt>
        <dd class="mono">{alert.entity ?? '—'}</dd>
        <dt>Events</dt>
        <dd>{formatNumber(alert.count)}</dd>
        <dt>First seen</dt>
        <dd>{formatTime(alert.first_seen)}</dd>
        <dt>Last seen</dt>
        <dd>{formatTime(alert.last_seen)}</dd>
        <dt>Assignee</dt>
        <dd>{alert.assignee ?? '—'}</dd>
        <dt>Rule</dt>
        <dd class="mono">{alert.rule_id}</dd>
        <dt>Tags</dt>
        <dd>{alert.tags.length ? alert.tags.join(', ') : '—'}</dd>
      </dl>
      {error && <ErrorState message={error} />}
      {canTriage(role) && (
        <div class="panel triage">
          <h2>Triage</h2>
          <div class="actions">
            {TRANSITIONS[alert.status].map((t) => (
              <button
                key={t.to}
                type="button"
                class={t.to === 'new' ? 'secondary' : undefined}
                disabled={busy}
                onClick={() => void patch({ status: t.to })}
              >
                {t.text}
              </button>
            ))}
          </div>
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              void patch({ assignee: assignee.trim() || null });
            }}
          >
            <label>
              Assignee
              <input value={assignee} onInput={(e) => setAssignee(e.currentTarget.value)} />
            </label>
            <button type="submit" disabled={busy}>
              Assign
            </button>
          </form>
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              if (note.trim()) void patch({ note: note.trim() }).then(() => setNote(''));
            }}
          >
            <label>
              Note
              <textarea rows={2} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
            </label>
            <button type="submit" disabled={busy || !note.trim()}>
              Add note
            </button>
          </form>
        </div>
      )}
      <div class="panel">
        <h2>History</h2>
        <ol class="history">
          {history.map((h, i) => (
            <li key={i}>
              <time>{formatTime(h.at)}</time> <strong>{h.actor}</strong> {describe(h)}
            </li>
          ))}
        </ol>
      </div>
      <div class="panel">
        <h2>Related events</h2>
        <EventTable events={events} empty="The alert's events are not in the lake (yet, or any more)." />
      </div>
    </>
  );
}

function describe(h: HistoryEntry): string {
  if (h.action === 'created') return 'raised the alert';
  if (h.action === 'note') return `noted: ${h.note ?? ''}`;
  return `changed ${h.action} from ${label(h.from ?? 'none')} to ${label(h.to ?? 'none')}`;
}
