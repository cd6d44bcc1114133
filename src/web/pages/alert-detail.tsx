import { useEffect, useState } from 'preact/hooks';
import { api, type Role } from '../api.ts';
import { LevelBadge, StatusBadge } from '../components/badges.tsx';
import { ErrorState, Loaded } from '../components/states.tsx';
import { formatNumber, formatTime, label } from '../format.ts';
import { useApi } from '../hooks.ts';
import { attackedTargets, canTriage, entityEventFilter, TRANSITIONS } from '../model.ts';
import { hrefTo } from '../route.ts';
import type { Alert, EventRow, HistoryEntry } from '../types.ts';
import { EventTable } from './events.tsx';

interface AlertDetail {
  alert: Alert;
  history: HistoryEntry[];
  /** The first page of the alert's events (oldest first); the rest by events_next_cursor. */
  events: EventRow[];
  events_next_cursor: string | null;
}

interface Rule {
  title: string | null;
  description: string | null;
  level: string | null;
  status: string | null;
  kind: 'rule' | 'correlation';
  attack: Array<{ id: string; url: string }>;
  references: string[];
  falsepositives: string[];
  file: string;
  yaml: string;
  fixtures: Array<{ name: string; text: string }>;
}

const EVENTS_PAGE = 50;
/** Around the alert's span, the entity's events are searched with this margin each side. */
const PIVOT_MARGIN_MS = 15 * 60_000;

export function AlertDetailPage({ id, role }: { id: string; role: Role | null }) {
  const detail = useApi<AlertDetail>(`/api/alerts/${encodeURIComponent(id)}`);
  return (
    <section aria-labelledby="alert-title">
      <p>
        <a href="#/alerts">← All alerts</a>
      </p>
      <Loaded what="the alert" {...detail}>
        {(d) => (
          // One instance per alert: its loaded pages of related events belong to that alert.
          <Detail
            key={d.alert.id}
            detail={d}
            role={role}
            reload={detail.reload}
            updatedAt={detail.updatedAt}
          />
        )}
      </Loaded>
    </section>
  );
}

function Detail({
  detail,
  role,
  reload,
  updatedAt,
}: {
  detail: AlertDetail;
  role: Role | null;
  reload: () => void;
  updatedAt: number | null;
}) {
  const [events, setEvents] = useState(detail.events);
  const [eventsCursor, setEventsCursor] = useState(detail.events_next_cursor);
  const [alert, setAlert] = useState(detail.alert);
  const [pending, setPending] = useState<HistoryEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [assignee, setAssignee] = useState(detail.alert.assignee ?? '');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [page, setPage] = useState(0);
  const rule = useApi<Rule>(`/api/rules/${encodeURIComponent(alert.rule_id)}`);
  // A fresh answer from the server replaces what was shown ahead of it.
  useEffect(() => {
    setAlert(detail.alert);
    setPending([]);
  }, [updatedAt]);

  /** The next page of related events from the server (all of the alert's kept ids, paged). */
  async function moreEvents(): Promise<boolean> {
    if (!eventsCursor) return false;
    setBusy(true);
    try {
      const next = await api<{ events: EventRow[]; next_cursor: string | null }>(
        `/api/alerts/${encodeURIComponent(alert.id)}/events?cursor=${encodeURIComponent(eventsCursor)}`,
      );
      setEvents((prev) => [...prev, ...next.events]);
      setEventsCursor(next.next_cursor);
      return next.events.length > 0;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function patch(change: { status?: string; assignee?: string | null; note?: string }) {
    setBusy(true);
    try {
      const updated = await api<Alert>(`/api/alerts/${encodeURIComponent(alert.id)}`, {
        method: 'PATCH',
        body: change,
      });
      // Shown at once; the history reloads behind it (the actor is the token's name, as in the header).
      const actor = sessionStorage.getItem('socstream.name') ?? 'you';
      const at = Date.now();
      const added: HistoryEntry[] = [];
      if (change.status && change.status !== alert.status)
        added.push({ at, actor, action: 'status', from: alert.status, to: change.status, note: null });
      if ('assignee' in change && change.assignee !== alert.assignee)
        added.push({
          at,
          actor,
          action: 'assignee',
          from: alert.assignee,
          to: change.assignee ?? null,
          note: null,
        });
      if (change.note) added.push({ at, actor, action: 'note', from: null, to: null, note: change.note });
      setAlert(updated);
      setPending((p) => [...p, ...added]);
      setError(null);
      reload();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  }

  const history = [...detail.history, ...pending];
  const targets = attackedTargets(events);
  const pivot = entityEventFilter(alert);
  const span = {
    from: String(alert.first_seen - PIVOT_MARGIN_MS),
    to: String(alert.last_seen + PIVOT_MARGIN_MS),
  };
  const pages = Math.max(1, Math.ceil(events.length / EVENTS_PAGE));
  const shown = events.slice(page * EVENTS_PAGE, (page + 1) * EVENTS_PAGE);
  return (
    <>
      <h1 id="alert-title">
        <LevelBadge level={alert.level} /> {alert.rule_title}
      </h1>
      <p class="summary">{alert.summary}</p>
      <nav class="pivots" aria-label="Pivots">
        {pivot && (
          <a href={hrefTo('/events', { ...pivot, ...span })}>Events of {alert.entity} around this alert</a>
        )}
        {alert.entity && (
          <a href={hrefTo('/alerts', { entity: alert.entity, from: 'now-7d' })}>
            Other alerts of {alert.entity}
          </a>
        )}
        <a href={hrefTo('/alerts', { rule_id: alert.rule_id, from: 'now-7d' })}>Alerts of this rule</a>
      </nav>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={alert.status} />
        </dd>
        <dt>Entity</dt>
        <dd class="mono">
          {alert.entity ?? '—'}
          {Object.keys(alert.group).length > 0 && (
            <span class="sub">
              {' '}
              (
              {Object.entries(alert.group)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')}
              )
            </span>
          )}
        </dd>
        <dt>Attacked</dt>
        <dd class="mono" data-testid="attacked">
          {targets.length === 0
            ? '—'
            : targets.map((t, i) => (
                <span key={`${t.field}:${t.value}`}>
                  {i > 0 && ', '}
                  <a
                    href={hrefTo('/events', {
                      ...(t.field === 'dst_ip' ? { dst_ip: t.value } : { q: t.value }),
                      ...span,
                    })}
                  >
                    {t.value}
                  </a>
                  <span class="sub">
                    {' '}
                    {t.field === 'dst_ip' ? '' : `(${t.field}) `}× {t.n}
                  </span>
                </span>
              ))}
        </dd>
        <dt>Count</dt>
        <dd data-testid="count">
          {formatNumber(alert.count)} {alert.count === 1 ? 'match' : 'matches'} folded into this alert
          <div class="sub" data-testid="count-detail">
            {alert.event_ids.length} id{alert.event_ids.length === 1 ? '' : 's'} kept with it, {events.length}
            {eventsCursor ? '+' : ''} of them found as events in the lake (listed below)
            {!eventsCursor &&
              alert.event_ids.length > events.length &&
              ` — the other ${alert.event_ids.length - events.length} are not in the lake: not flushed yet, past retention, or the ids of a member rule's matches (chained correlations); "Events of ${alert.entity ?? 'the entity'} around this alert" shows all its events`}
            {alert.count > alert.event_ids.length &&
              ` — only the first ${alert.event_ids.length} ids are kept`}
          </div>
        </dd>
        <dt>First seen</dt>
        <dd>
          <time>{formatTime(alert.first_seen)}</time>
        </dd>
        <dt>Last seen</dt>
        <dd>
          <time>{formatTime(alert.last_seen)}</time>
        </dd>
        <dt>Assignee</dt>
        <dd>{alert.assignee ?? '—'}</dd>
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
              const text = note.trim();
              if (text) void patch({ note: text }).then((ok) => ok && setNote(''));
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
      <RulePanel ruleId={alert.rule_id} rule={rule.data} error={rule.error} />
      <div class="panel">
        <h2>Related events</h2>
        <EventTable events={shown} empty="The alert's events are not in the lake (yet, or any more)." />
        {(pages > 1 || eventsCursor) && (
          <div class="toolbar">
            <button type="button" class="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
              Previous
            </button>
            <span class="hint">
              Page {page + 1} of {pages}
              {eventsCursor ? '+' : ''} ({events.length}
              {eventsCursor ? ' loaded, more in the lake' : ' events'})
            </span>
            <button
              type="button"
              class="secondary"
              disabled={busy || (page + 1 >= pages && !eventsCursor)}
              onClick={() => {
                if (page + 1 < pages) setPage(page + 1);
                else void moreEvents().then((got) => got && setPage(page + 1));
              }}
            >
              Next
            </button>
          </div>
        )}
      </div>
    </>
  );
}

function RulePanel({ ruleId, rule, error }: { ruleId: string; rule: Rule | null; error: string | null }) {
  return (
    <section class="panel rule" aria-labelledby="rule-title">
      <h2 id="rule-title">Rule</h2>
      {!rule ? (
        <p class="hint">
          <span class="mono">{ruleId}</span>
          {error ? ` — ${error}` : ' — loading…'}
        </p>
      ) : (
        <>
          <p>
            <strong>{rule.title}</strong> <span class="sub mono">{ruleId}</span>{' '}
            {rule.kind === 'correlation' && <span class="tag">correlation</span>}
          </p>
          {rule.description && <p>{rule.description}</p>}
          <dl class="facts">
            <dt>Level</dt>
            <dd>
              {rule.level ?? '—'}
              <span class="sub"> — set by the rule author for every alert of this rule</span>
            </dd>
            <dt>ATT&amp;CK</dt>
            <dd>
              {rule.attack.length === 0
                ? '—'
                : rule.attack.map((t, i) => (
                    <span key={t.id}>
                      {i > 0 && ', '}
                      <a href={t.url} target="_blank" rel="noreferrer noopener">
                        {t.id}
                      </a>
                    </span>
                  ))}
            </dd>
            {rule.falsepositives.length > 0 && (
              <>
                <dt>False positives</dt>
                <dd>{rule.falsepositives.join('; ')}</dd>
              </>
            )}
            <dt>File</dt>
            <dd class="mono">{rule.file}</dd>
          </dl>
          <details>
            <summary>Rule YAML</summary>
            <pre>{rule.yaml}</pre>
          </details>
          {rule.fixtures.map((f) => (
            <details key={f.name}>
              <summary>Test fixture: {f.name}</summary>
              <pre>{f.text}</pre>
            </details>
          ))}
        </>
      )}
    </section>
  );
}

function describe(h: HistoryEntry): string {
  if (h.action === 'created') return 'raised the alert';
  if (h.action === 'note') return `noted: ${h.note ?? ''}`;
  return `changed ${h.action} from ${label(h.from ?? 'none')} to ${label(h.to ?? 'none')}`;
}
