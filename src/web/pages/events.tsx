import { Fragment } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api, queryString } from '../api.ts';
import { TimeChart } from '../components/chart.tsx';
import { Empty, ErrorState, Loading } from '../components/states.tsx';
import { TimeBar } from '../components/time-bar.tsx';
import { cell, formatNumber, formatTime } from '../format.ts';
import { useApi } from '../hooks.ts';
import { eventHeadline, FILTER_FIELDS, topValues } from '../model.ts';
import { setParams } from '../route.ts';
import { bucketSeconds, queryRange, rangeFromParams, resolveRange } from '../time.ts';
import type { EventPage, EventRow, FieldValues } from '../types.ts';

const COLUMNS = ['log_type', 'src_ip', 'dst_ip', 'dst_port', 'user', 'outcome'] as const;
/** Fields shown with their top values besides the filterable ones (not clickable: no API filter). */
const INFO_FIELDS = ['dst_port', 'protocol', 'direction', 'outcome', 'event_type'] as const;

interface EventLayers {
  raw: unknown;
  normalized: Record<string, unknown>;
  enriched: Record<string, unknown>;
  extra: unknown;
}

const LAYERS = ['raw', 'normalized', 'enriched'] as const;

/** One event's layers, loaded when the row is opened (the list carries only the main columns). */
function EventDetail({ row }: { row: EventRow }) {
  const [layer, setLayer] = useState<(typeof LAYERS)[number]>('raw');
  const detail = useApi<EventLayers>(
    `/api/events/${encodeURIComponent(row.id)}${queryString({ t: row.event_time })}`,
  );
  return (
    <div class="event-detail">
      <div role="tablist" aria-label="Event layers" class="segmented">
        {LAYERS.map((l) => (
          <button
            key={l}
            type="button"
            role="tab"
            aria-selected={layer === l}
            class={layer === l ? undefined : 'secondary'}
            onClick={() => setLayer(l)}
          >
            {l}
          </button>
        ))}
      </div>
      {detail.error && !detail.data ? (
        <ErrorState message={detail.error} retry={detail.reload} />
      ) : !detail.data ? (
        <Loading what="the event" />
      ) : (
        <pre role="tabpanel" data-layer={layer}>
          {JSON.stringify(layerValue(detail.data, layer), null, 2)}
        </pre>
      )}
    </div>
  );
}

function layerValue(d: EventLayers, layer: (typeof LAYERS)[number]): unknown {
  if (layer === 'raw') return d.raw;
  if (layer === 'normalized') return d.normalized;
  return d.extra ? { ...d.enriched, extra: d.extra } : d.enriched;
}

export function EventTable({ events, empty }: { events: EventRow[]; empty: string }) {
  const [open, setOpen] = useState<string | null>(null);
  if (events.length === 0) return <Empty>{empty}</Empty>;
  return (
    <div class="table-wrap">
      <table class="data events">
        <thead>
          <tr>
            <th scope="col">Time</th>
            {COLUMNS.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
            <th scope="col">What</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <Fragment key={e.id}>
              <tr data-event-id={e.id}>
                <td>
                  <button
                    type="button"
                    class="link"
                    aria-expanded={open === e.id}
                    onClick={() => setOpen(open === e.id ? null : e.id)}
                  >
                    <time>{formatTime(e.event_time)}</time>
                  </button>
                </td>
                {COLUMNS.map((c) => (
                  <td
                    key={c}
                    class={`mono${e[c] === null || e[c] === undefined || e[c] === '' ? ' blank' : ''}`}
                    data-label={c}
                  >
                    {cell(e[c])}
                  </td>
                ))}
                <td class="what" data-label="what">
                  {eventHeadline(e)}
                </td>
              </tr>
              {open === e.id && (
                <tr class="expanded">
                  <td colSpan={COLUMNS.length + 2}>
                    <EventDetail row={e} />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type SearchKey = 'q' | 'src_ip' | 'dst_ip' | 'user' | 'log_type';
const SEARCH_KEYS: readonly SearchKey[] = ['q', 'src_ip', 'dst_ip', 'user', 'log_type'];
const FIELDS: Array<{ key: Exclude<SearchKey, 'log_type'>; text: string; placeholder?: string }> = [
  { key: 'q', text: 'Text', placeholder: 'domain, URL, signature, user…' },
  { key: 'src_ip', text: 'Source IP' },
  { key: 'dst_ip', text: 'Destination IP' },
  { key: 'user', text: 'User' },
];

function searchFromParams(params: URLSearchParams): Record<SearchKey, string> {
  return Object.fromEntries(SEARCH_KEYS.map((k) => [k, params.get(k) ?? ''])) as Record<SearchKey, string>;
}

/**
 * Event search: the filters and the time range are in the URL, so the overview and the alert
 * pages link straight to a search, and a search runs as soon as the page opens with filters.
 */
export function EventsPage({ params }: { params: URLSearchParams }) {
  const range = rangeFromParams(params);
  const search = searchFromParams(params);
  const searchKey = JSON.stringify({ ...search, ...range, run: params.get('run') });
  const hasQuery = SEARCH_KEYS.some((k) => search[k]) || params.has('from') || params.has('run');
  const [draft, setDraft] = useState(search);
  const [events, setEvents] = useState<EventRow[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  /** Where a partial page's scan stopped (the server's budget): More continues from there. */
  const [searchedTo, setSearchedTo] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const logTypes = useApi<{ log_types: string[] }>('/api/log-types');
  const span = queryRange(range, Date.now());
  const resolved = resolveRange(range, Date.now());
  const histogram = useApi<{ bucket_seconds: number; buckets: Array<{ t: number; n: number }> }>(
    hasQuery
      ? `/api/events/histogram${queryString({
          ...search,
          q: search.q.trim(),
          ...span,
          bucket_seconds: bucketSeconds(resolved.fromMs, resolved.toMs, 60),
          run: undefined,
        })}`
      : null,
  );
  // The field list over the search's range, counted by the server (GET /api/events/fields), not
  // over the rows loaded here. Until it answers the list waits (values that changed under the
  // pointer would filter by another value than the one aimed at); if it fails, the loaded rows
  // stand in, said so.
  const fieldsApi = useApi<FieldValues>(
    hasQuery
      ? `/api/events/fields${queryString({ ...search, q: search.q.trim(), ...span, run: undefined })}`
      : null,
  );
  const zoom = useCallback((fromMs: number, toMs: number) => setParams({ from: fromMs, to: toMs }), []);

  async function run(after: string | null) {
    setLoading(true);
    try {
      const q = {
        ...search,
        q: search.q.trim(),
        ...queryRange(range, Date.now()),
        limit: 100,
        cursor: after,
      };
      const page = await api<EventPage>(`/api/events${queryString(q)}`);
      setEvents((prev) => (after && prev ? [...prev, ...page.events] : page.events));
      setCursor(page.next_cursor);
      setSearchedTo(page.partial ? (page.searched_to ?? null) : null);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
      if (!after) {
        setEvents(null);
        setCursor(null);
        setSearchedTo(null);
      }
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    setDraft(search);
    if (hasQuery) void run(null);
  }, [searchKey]);

  const server = fieldsApi.data && !fieldsApi.stale ? fieldsApi.data : null;
  const failed = !server && !fieldsApi.loading && fieldsApi.error !== null;
  const fields = server
    ? server.fields
    : failed && events
      ? topValues(events, [...FILTER_FIELDS, ...INFO_FIELDS])
      : [];
  const scope = server
    ? fieldsScope(server)
    : failed
      ? `Top values in the ${formatNumber(events?.length ?? 0)} events shown (the range's could not be counted)`
      : null;
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">Event search</h1>
      <TimeBar range={range} refreshable={false} />
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          // `run` changes the URL even when the filters did not: Search always searches again.
          setParams({ ...Object.fromEntries(SEARCH_KEYS.map((k) => [k, draft[k].trim()])), run: Date.now() });
        }}
      >
        {FIELDS.map((f) => (
          <label key={f.key}>
            {f.text}
            <input
              name={f.key}
              placeholder={f.placeholder}
              value={draft[f.key]}
              onInput={(e) => setDraft({ ...draft, [f.key]: e.currentTarget.value })}
            />
          </label>
        ))}
        <label>
          Log type
          <select
            name="log_type"
            value={draft.log_type}
            onChange={(e) => setDraft({ ...draft, log_type: e.currentTarget.value })}
          >
            <option value="">any</option>
            {(logTypes.data?.log_types ?? (draft.log_type ? [draft.log_type] : [])).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={loading}>
          Search
        </button>
      </form>
      {error && <ErrorState message={error} retry={() => void run(null)} />}
      {loading && events === null && <Loading what="events" />}
      {events === null && !loading && !error && (
        <Empty>Search the lake: all fields are optional; newest events first.</Empty>
      )}
      {events !== null && (
        <div class="discover">
          {(fields.length > 0 || scope === null) && (
            <aside class="panel fields" aria-label="Field values">
              <h2>Fields</h2>
              <p
                class="hint"
                data-testid="fields-scope"
                data-sampled={server ? String(server.sampled) : failed ? 'loaded' : 'pending'}
              >
                {scope === null ? 'Counting the values over the range…' : `${scope}; a click filters.`}
              </p>
              {fields.map((f) => (
                <details key={f.field} open={(FILTER_FIELDS as readonly string[]).includes(f.field)}>
                  <summary>{f.field}</summary>
                  <ul>
                    {f.values.map((v) => (
                      <li key={v.value}>
                        {(FILTER_FIELDS as readonly string[]).includes(f.field) ? (
                          <button
                            type="button"
                            class="link mono"
                            title={`Filter ${f.field} = ${v.value}`}
                            onClick={() => setParams({ [f.field]: v.value })}
                          >
                            {v.value}
                          </button>
                        ) : (
                          <span class="mono">{v.value}</span>
                        )}{' '}
                        <span class="sub">{v.n}</span>
                      </li>
                    ))}
                  </ul>
                </details>
              ))}
            </aside>
          )}
          <div class="results">
            {histogram.data && histogram.data.buckets.length > 0 && (
              <Histogram data={histogram.data} onSelect={zoom} />
            )}
            <p class="hint" role="status">
              {formatNumber(events.length)} event{events.length === 1 ? '' : 's'}
              {cursor ? ' so far' : ''}
              {searchedTo !== null ? ` — searched up to ${formatTime(searchedTo)}; More events reads on` : ''}
            </p>
            <EventTable events={events} empty="No events match." />
            {cursor && (
              <button type="button" class="more" disabled={loading} onClick={() => void run(cursor)}>
                {loading ? 'Loading…' : 'More events'}
              </button>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

/** What the server's field list counted: all the range's matching events, or which sample. */
export function fieldsScope(f: FieldValues): string {
  const events = `${formatNumber(f.rows)} matching event${f.rows === 1 ? '' : 's'}`;
  if (!f.sampled) return `Top values over all ${events} of the range`;
  const minutes = Math.round((f.read_to - f.read_from) / 60_000);
  const last = minutes < 120 ? `${formatNumber(minutes)} min` : `${formatNumber(Math.round(minutes / 60))} h`;
  if (f.rows >= f.sample_rows) return `Top values in a sample: ${events} of the range's last ${last}`;
  return `Top values over the ${events} of the range's last ${last} (a sample of the range)`;
}

/** Matching events over the range; dragging across it narrows the range (the URL's from / to). */
function Histogram({
  data,
  onSelect,
}: {
  data: { bucket_seconds: number; buckets: Array<{ t: number; n: number }> };
  onSelect: (fromMs: number, toMs: number) => void;
}) {
  const x = useMemo(() => data.buckets.map((b) => b.t / 1000), [data]);
  const series = useMemo(() => [{ name: 'events', values: data.buckets.map((b) => b.n) }], [data]);
  const total = data.buckets.reduce((s, b) => s + b.n, 0);
  return (
    <div class="histogram" data-testid="histogram" data-total={total}>
      <TimeChart
        x={x}
        series={series}
        bars
        height={140}
        onSelect={onSelect}
        title={`${formatNumber(total)} matching events, per ${data.bucket_seconds} s — drag to zoom`}
      />
    </div>
  );
}
