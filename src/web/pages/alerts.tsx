import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, queryString, type Role } from '../api.ts';
import { LevelBadge, StatusBadge } from '../components/badges.tsx';
import { Empty, ErrorState, Loading } from '../components/states.tsx';
import { TimeBar } from '../components/time-bar.tsx';
import { formatNumber, formatTime, label } from '../format.ts';
import { useApi } from '../hooks.ts';
import { useLiveItems } from '../live.ts';
import {
  type AlertFilters,
  type AlertSort,
  applyAlert,
  canTriage,
  filtersFromParams,
  SORTS,
  sortAlerts,
} from '../model.ts';
import { hrefTo, setParams } from '../route.ts';
import { queryRange, rangeFromParams } from '../time.ts';
import { type Alert, type AlertPage, type AlertStatus, LEVELS, type LiveItem, STATUSES } from '../types.ts';

interface Groups {
  groups: Array<{
    key: string;
    label: string;
    alerts: number;
    events: number;
    max_level: string;
    last_seen: number;
    open: number;
  }>;
  alerts: number;
  truncated: boolean;
}

/**
 * Alerts over the page's time range, filtered by status, level, rule and entity (all in the URL),
 * listed (sortable, with bulk triage) or grouped by rule or entity with counts.
 */
export function AlertsPage({ role, params }: { role: Role | null; params: URLSearchParams }) {
  const range = rangeFromParams(params);
  const filters = filtersFromParams(params);
  const view =
    params.get('group') === 'rule' || params.get('group') === 'entity' ? params.get('group') : 'list';
  const sort = (SORTS.find((s) => s.key === params.get('sort'))?.key ?? 'last_seen') as AlertSort;
  const [draft, setDraft] = useState<AlertFilters>(filters);
  const filterKey = JSON.stringify(filters);
  useEffect(() => setDraft(filters), [filterKey]);

  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      <TimeBar range={range} refreshable={false} />
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setParams({ ...draft });
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
          onClick={() => setParams({ status: null, level: null, rule_id: null, entity: null })}
        >
          Clear
        </button>
      </form>
      <div class="toolbar">
        <fieldset aria-label="View" class="segmented">
          {(['list', 'rule', 'entity'] as const).map((v) => (
            <a
              key={v}
              href={hrefTo(
                '/alerts',
                new URLSearchParams({ ...Object.fromEntries(params), group: v === 'list' ? '' : v }),
              )}
              aria-current={view === v ? 'true' : undefined}
            >
              {v === 'list' ? 'List' : `By ${v}`}
            </a>
          ))}
        </fieldset>
        {view === 'list' && (
          <label>
            Sort by
            <select value={sort} onChange={(e) => setParams({ sort: e.currentTarget.value })}>
              {SORTS.map((s) => (
                <option key={s.key} value={s.key}>
                  {s.text}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {view === 'list' ? (
        <AlertList role={role} filters={filters} span={queryRange(range, Date.now())} sort={sort} />
      ) : (
        <AlertGroups by={view as 'rule' | 'entity'} filters={filters} params={params} />
      )}
    </section>
  );
}

function AlertGroups({
  by,
  filters,
  params,
}: {
  by: 'rule' | 'entity';
  filters: AlertFilters;
  params: URLSearchParams;
}) {
  const span = queryRange(rangeFromParams(params), Date.now());
  const groups = useApi<Groups>(
    `/api/alerts/groups${queryString({ by, status: filters.status, level: filters.level, ...span })}`,
  );
  if (groups.error && !groups.data) return <ErrorState message={groups.error} retry={groups.reload} />;
  if (!groups.data) return <Loading what="alert groups" />;
  const rows = groups.data.groups;
  if (rows.length === 0) return <Empty>No alerts in this range.</Empty>;
  const keep = Object.fromEntries(params);
  delete keep.group;
  return (
    <>
      <p class="hint">
        {formatNumber(groups.data.alerts)} alerts in {rows.length} groups
        {groups.data.truncated ? ' (the newest alerts only: narrow the range to see all)' : ''}.
      </p>
      <table class="data alerts">
        <thead>
          <tr>
            <th scope="col">Highest level</th>
            <th scope="col">{by === 'rule' ? 'Rule' : 'Entity'}</th>
            <th scope="col" class="num">
              Alerts
            </th>
            <th scope="col" class="num">
              New
            </th>
            <th scope="col" class="num">
              Events
            </th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((g) => (
            <tr key={g.key} data-group={g.key}>
              <td data-label="Level">
                <LevelBadge level={g.max_level} />
              </td>
              <td data-label="Rule">
                <a href={hrefTo('/alerts', { ...keep, [by === 'rule' ? 'rule_id' : 'entity']: g.key })}>
                  {by === 'rule' ? g.label : g.key}
                </a>
                <div class="sub">{by === 'rule' ? g.key : g.label}</div>
              </td>
              <td class="num" data-label="Alerts">
                {formatNumber(g.alerts)}
              </td>
              <td class="num" data-label="New">
                {formatNumber(g.open)}
              </td>
              <td class="num" data-label="Events">
                {formatNumber(g.events)}
              </td>
              <td data-label="Last seen">
                <time>{formatTime(g.last_seen)}</time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function AlertList({
  role,
  filters,
  span,
  sort,
}: {
  role: Role | null;
  filters: AlertFilters;
  span: { from: number; to?: number };
  sort: AlertSort;
}) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const triage = canTriage(role);
  // A relative range has no end: new alerts arrive over the live stream. The server sorts the whole
  // result (the first page of a sort by level holds the most severe alerts of the range); the
  // client keeps the loaded rows in that order as live alerts come in.
  const query = { ...filters, ...span, sort };
  const queryKey = JSON.stringify(query);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      try {
        const page = await api<AlertPage>(
          `/api/alerts${queryString({ ...query, limit: 50, cursor: after })}`,
        );
        setAlerts((prev) => (after && prev ? [...prev, ...page.alerts] : page.alerts));
        setCursor(page.next_cursor);
        setError(null);
      } catch (err) {
        setError((err as Error).message);
      } finally {
        setLoading(false);
      }
    },
    [queryKey],
  );

  useEffect(() => {
    setSelected(new Set());
    void load(null);
  }, [load]);

  useLiveItems(
    useCallback(
      (item: LiveItem) => {
        if (item.kind !== 'alert') return;
        const a = item.data;
        setAlerts((prev) => prev && applyAlert(prev, a, filters));
        setFresh((s) => new Set(s).add(a.id));
      },
      [queryKey],
    ),
  );

  async function change(list: Alert[], status: AlertStatus) {
    const failed: string[] = [];
    for (const a of list) {
      try {
        const updated = await api<Alert>(`/api/alerts/${encodeURIComponent(a.id)}`, {
          method: 'PATCH',
          body: { status },
        });
        setAlerts((prev) => prev && applyAlert(prev, updated, filters));
      } catch (err) {
        failed.push(`${a.rule_title} on ${a.entity ?? 'no entity'}: ${(err as Error).message}`);
      }
    }
    setError(failed.length ? `Could not change ${failed.join('; ')}` : null);
    setSelected(new Set());
  }

  const shown = alerts ? sortAlerts(alerts, sort) : null;
  const chosen = shown?.filter((a) => selected.has(a.id)) ?? [];
  return (
    <>
      {error && <ErrorState message={error} retry={() => void load(null)} />}
      {triage && shown && shown.length > 0 && (
        <fieldset class="toolbar bulk" aria-label="Bulk triage">
          <span class="hint">{chosen.length} selected</span>
          <button
            type="button"
            disabled={chosen.length === 0}
            onClick={() => void change(chosen, 'acknowledged')}
          >
            Acknowledge selected
          </button>
          <button
            type="button"
            class="secondary"
            disabled={chosen.length === 0}
            onClick={() => void change(chosen, 'closed')}
          >
            Close selected
          </button>
        </fieldset>
      )}
      {shown === null ? (
        !error && <Loading what="alerts" />
      ) : shown.length === 0 ? (
        <Empty>No alerts match. New ones appear here as soon as they are raised.</Empty>
      ) : (
        <table class="data alerts" aria-describedby="alerts-title">
          <thead>
            <tr>
              {triage && (
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all shown alerts"
                    checked={chosen.length === shown.length}
                    onChange={(e) =>
                      setSelected(e.currentTarget.checked ? new Set(shown.map((a) => a.id)) : new Set())
                    }
                  />
                </th>
              )}
              <th scope="col">Level</th>
              <th scope="col">Rule</th>
              <th scope="col">Entity</th>
              <th scope="col" class="num">
                Count
              </th>
              <th scope="col">Last seen</th>
              <th scope="col">Status</th>
              <th scope="col">Assignee</th>
              {triage && <th scope="col">Triage</th>}
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <tr key={a.id} class={fresh.has(a.id) ? 'fresh' : undefined} data-alert-id={a.id}>
                {triage && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${a.rule_title} on ${a.entity ?? 'no entity'}`}
                      checked={selected.has(a.id)}
                      onChange={(e) => {
                        const next = new Set(selected);
                        if (e.currentTarget.checked) next.add(a.id);
                        else next.delete(a.id);
                        setSelected(next);
                      }}
                    />
                  </td>
                )}
                <td data-label="Level">
                  <LevelBadge level={a.level} />
                </td>
                <td data-label="Rule">
                  <a href={`#/alerts/${encodeURIComponent(a.id)}`}>{a.rule_title}</a>
                  <div class="sub">{a.summary}</div>
                </td>
                <td class="mono" data-label="Entity">
                  {a.entity ? <a href={hrefTo('/alerts', { entity: a.entity })}>{a.entity}</a> : '—'}
                </td>
                <td class="num" data-label="Count">
                  {formatNumber(a.count)}
                </td>
                <td data-label="Last seen">
                  <time>{formatTime(a.last_seen)}</time>
                </td>
                <td data-label="Status">
                  <StatusBadge status={a.status} />
                </td>
                <td data-label="Assignee">{a.assignee ?? '—'}</td>
                {triage && (
                  <td class="actions">
                    {a.status === 'new' && (
                      <button
                        type="button"
                        onClick={() => void change([a], 'acknowledged')}
                        aria-label={`Acknowledge ${a.rule_title} on ${a.entity ?? 'no entity'}`}
                      >
                        Acknowledge
                      </button>
                    )}
                    {(a.status === 'new' || a.status === 'acknowledged') && (
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => void change([a], 'closed')}
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
        <button type="button" class="more" disabled={loading} onClick={() => void load(cursor)}>
          {loading ? 'Loading…' : 'More alerts'}
        </button>
      )}
    </>
  );
}
