import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, queryString, type Role } from '../api.ts';
import { LevelBadge, StatusBadge } from '../components/badges.tsx';
import { Empty, ErrorState, Loading } from '../components/states.tsx';
import { formatNumber, formatTime, label } from '../format.ts';
import { useLiveItems } from '../live.ts';
import { type AlertFilters, applyAlert, canTriage, NO_FILTERS } from '../model.ts';
import { type Alert, type AlertPage, type AlertStatus, LEVELS, type LiveItem, STATUSES } from '../types.ts';

export function AlertsPage({ role }: { role: Role | null }) {
  const [draft, setDraft] = useState<AlertFilters>(NO_FILTERS);
  const [filters, setFilters] = useState<AlertFilters>(NO_FILTERS);
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [fresh, setFresh] = useState<Set<string>>(new Set());

  const load = useCallback(async (f: AlertFilters, after: string | null) => {
    setLoading(true);
    try {
      const page = await api<AlertPage>(`/api/alerts${queryString({ ...f, limit: 50, cursor: after })}`);
      setAlerts((prev) => (after && prev ? [...prev, ...page.alerts] : page.alerts));
      setCursor(page.next_cursor);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load(filters, null);
  }, [filters, load]);

  useLiveItems(
    useCallback(
      (item: LiveItem) => {
        if (item.kind !== 'alert') return;
        const a = item.data;
        setAlerts((prev) => prev && applyAlert(prev, a, filters));
        setFresh((s) => new Set(s).add(a.id));
      },
      [filters],
    ),
  );

  async function triage(a: Alert, status: AlertStatus) {
    try {
      const updated = await api<Alert>(`/api/alerts/${encodeURIComponent(a.id)}`, {
        method: 'PATCH',
        body: { status },
      });
      setAlerts((prev) => prev && applyAlert(prev, updated, filters));
      setError(null);
    } catch (err) {
      setError(`Could not change ${a.rule_title}: ${(err as Error).message}`);
    }
  }

  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft });
        }}
      >
        <label>
          Status
          <select
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value })}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Level
          <select value={draft.level} onChange={(e) => setDraft({ ...draft, level: e.currentTarget.value })}>
            <option value="">any</option>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Rule id
          <input
            value={draft.rule_id}
            onInput={(e) => setDraft({ ...draft, rule_id: e.currentTarget.value })}
          />
        </label>
        <label>
          Entity
          <input
            value={draft.entity}
            placeholder="IP, user or host"
            onInput={(e) => setDraft({ ...draft, entity: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Apply</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setDraft(NO_FILTERS);
            setFilters(NO_FILTERS);
          }}
        >
          Clear
        </button>
      </form>
      {error && <ErrorState message={error} retry={() => void load(filters, null)} />}
      {alerts === null ? (
        !error && <Loading what="alerts" />
      ) : alerts.length === 0 ? (
        <Empty>No alerts match. New ones appear here as soon as they are raised.</Empty>
      ) : (
        <table class="data" aria-describedby="alerts-title">
          <thead>
            <tr>
              <th scope="col">Level</th>
              <th scope="col">Rule</th>
              <th scope="col">Entity</th>
              <th scope="col" class="num">
                Count
              </th>
              <th scope="col">Last seen</th>
              <th scope="col">Status</th>
              <th scope="col">Assignee</th>
              {canTriage(role) && <th scope="col">Triage</th>}
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => (
              <tr key={a.id} class={fresh.has(a.id) ? 'fresh' : undefined} data-alert-id={a.id}>
                <td>
                  <LevelBadge level={a.level} />
                </td>
                <td>
                  <a href={`#/alerts/${encodeURIComponent(a.id)}`}>{a.rule_title}</a>
                  <div class="sub">{a.summary}</div>
                </td>
                <td class="mono">{a.entity ?? '—'}</td>
                <td class="num">{formatNumber(a.count)}</td>
                <td>{formatTime(a.last_seen)}</td>
                <td>
                  <StatusBadge status={a.status} />
                </td>
                <td>{a.assignee ?? '—'}</td>
                {canTriage(role) && (
                  <td class="actions">
                    {a.status === 'new' && (
                      <button
                        type="button"
                        onClick={() => void triage(a, 'acknowledged')}
                        aria-label={`Acknowledge ${a.rule_title} on ${a.entity ?? 'no entity'}`}
                      >
                        Acknowledge
                      </button>
                    )}
                    {(a.status === 'new' || a.status === 'acknowledged') && (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => void triage(a, 'closed')}
                        aria-label={`Close ${a.rule_title} on ${a.entity ?? 'no entity'}`}
                      >
                        Close
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" class="more" disabled={loading} onClick={() => void load(filters, cursor)}>
          {loading ? 'Loading…' : 'More alerts'}
        </button>
      )}
    </section>
  );
}
