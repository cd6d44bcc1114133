import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, queryString } from '../api.ts';
import { Empty, ErrorState, Loading } from '../components/states.tsx';
import { cell, formatTime, localInputToMs } from '../format.ts';
import type { EventPage, EventRow } from '../types.ts';

const COLUMNS = ['log_type', 'src_ip', 'dst_ip', 'dst_port', 'user', 'event_type', 'outcome'] as const;

/** The text most worth seeing for an event, whatever its type. */
function headline(e: EventRow): string {
  for (const k of ['signature', 'dns_query', 'url', 'message', 'event_type']) {
    const v = e[k];
    if (typeof v === 'string' && v) return v;
  }
  return '';
}

export function EventTable({ events, empty }: { events: EventRow[]; empty: string }) {
  const [open, setOpen] = useState<string | null>(null);
  if (events.length === 0) return <Empty>{empty}</Empty>;
  return (
    <table class="data">
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
                  {formatTime(e.event_time)}
                </button>
              </td>
              {COLUMNS.map((c) => (
                <td key={c} class="mono">
                  {cell(e[c])}
                </td>
              ))}
              <td class="what">{headline(e)}</td>
            </tr>
            {open === e.id && (
              <tr class="expanded">
                <td colSpan={COLUMNS.length + 2}>
                  <pre>{JSON.stringify(e, null, 2)}</pre>
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}

interface Search {
  q: string;
  src_ip: string;
  dst_ip: string;
  user: string;
  log_type: string;
  from: string;
  to: string;
}

const EMPTY_SEARCH: Search = { q: '', src_ip: '', dst_ip: '', user: '', log_type: '', from: '', to: '' };
const FIELDS: Array<{ key: keyof Search; text: string; type?: string; placeholder?: string }> = [
  { key: 'q', text: 'Text', placeholder: 'domain, URL, signature, user…' },
  { key: 'src_ip', text: 'Source IP' },
  { key: 'dst_ip', text: 'Destination IP' },
  { key: 'user', text: 'User' },
  { key: 'log_type', text: 'Log type', placeholder: 'e.g. zeek_conn' },
  { key: 'from', text: 'From', type: 'datetime-local' },
  { key: 'to', text: 'To', type: 'datetime-local' },
];

export function EventsPage() {
  const [search, setSearch] = useState<Search>(EMPTY_SEARCH);
  const [events, setEvents] = useState<EventRow[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  async function run(after: string | null) {
    setLoading(true);
    try {
      const params = {
        q: search.q.trim(),
        src_ip: search.src_ip.trim(),
        dst_ip: search.dst_ip.trim(),
        user: search.user.trim(),
        log_type: search.log_type.trim(),
        from: localInputToMs(search.from),
        to: localInputToMs(search.to),
        limit: 100,
        cursor: after,
      };
      const page = await api<EventPage>(`/api/events${queryString(params)}`);
      setEvents((prev) => (after && prev ? [...prev, ...page.events] : page.events));
      setCursor(page.next_cursor);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setLoading(false);
    }
  }

  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">Event search</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void run(null);
        }}
      >
        {FIELDS.map((f) => (
          <label key={f.key}>
            {f.text}
            <input
              name={f.key}
              type={f.type ?? 'text'}
              placeholder={f.placeholder}
              value={search[f.key]}
              onInput={(e) => setSearch({ ...search, [f.key]: e.currentTarget.value })}
            />
          </label>
        ))}
        <button type="submit" disabled={loading}>
          Search
        </button>
      </form>
      {error && <ErrorState message={error} />}
      {loading && events === null && <Loading what="events" />}
      {events === null && !loading && !error && (
        <Empty>Search the lake: all fields are optional; newest events first.</Empty>
      )}
      {events !== null && (
        <>
          <p class="hint" role="status">
            {events.length} event{events.length === 1 ? '' : 's'}
            {cursor ? ' so far' : ''}
          </p>
          <EventTable events={events} empty="No events match." />
        </>
      )}
      {cursor && (
        <button type="button" class="more" disabled={loading} onClick={() => void run(cursor)}>
          {loading ? 'Loading…' : 'More events'}
        </button>
      )}
    </section>
  );
}
