import { useEffect, useState } from 'preact/hooks';
import { currentZone, currentZoneName } from '../format.ts';
import { setParams } from '../route.ts';
import {
  describeRange,
  inputToMs,
  isRelative,
  msToInput,
  QUICK_RANGES,
  REFRESH_CHOICES,
  resolveRange,
  type TimeRange,
} from '../time.ts';

/**
 * The time range of a page (relative or absolute), its refresh interval (pausable) and the zone
 * times are shown in. All of it is in the URL (`from`, `to`, `refresh`), so a view can be shared.
 */
export function TimeBar({
  range,
  refreshMs,
  refreshable = true,
}: {
  range: TimeRange;
  refreshMs?: number;
  refreshable?: boolean;
}) {
  const zone = currentZone();
  const resolved = resolveRange(range, Date.now());
  const [from, setFrom] = useState(msToInput(resolved.fromMs, zone));
  const [to, setTo] = useState(msToInput(resolved.toMs, zone));
  const [custom, setCustom] = useState(false);
  useEffect(() => {
    const r = resolveRange(range, Date.now());
    setFrom(msToInput(r.fromMs, zone));
    setTo(msToInput(r.toMs, zone));
  }, [range.from, range.to, zone]);

  const quick = isRelative(range) && QUICK_RANGES.some((q) => q.from === range.from) ? range.from : 'custom';
  return (
    <fieldset class="timebar" aria-label="Time range">
      <label>
        Range
        <select
          aria-label="Range"
          value={custom ? 'custom' : quick}
          onChange={(e) => {
            const v = e.currentTarget.value;
            if (v === 'custom') setCustom(true);
            else {
              setCustom(false);
              setParams({ from: v, to: 'now' });
            }
          }}
        >
          {QUICK_RANGES.map((q) => (
            <option key={q.from} value={q.from}>
              {q.text}
            </option>
          ))}
          <option value="custom">Custom…</option>
        </select>
      </label>
      {(custom || quick === 'custom') && (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            const f = inputToMs(from, zone);
            const t = inputToMs(to, zone);
            if (f !== undefined && t !== undefined && f < t) {
              setCustom(false);
              setParams({ from: String(f), to: String(t) });
            }
          }}
        >
          <label>
            From
            <input
              type="datetime-local"
              step="1"
              value={from}
              onInput={(e) => setFrom(e.currentTarget.value)}
            />
          </label>
          <label>
            To
            <input type="datetime-local" step="1" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          </label>
          <button type="submit">Apply range</button>
        </form>
      )}
      {refreshable && (
        <label>
          Refresh
          <select
            aria-label="Refresh"
            value={String(refreshMs ?? 0)}
            onChange={(e) => setParams({ refresh: e.currentTarget.value })}
          >
            {REFRESH_CHOICES.map((c) => (
              <option key={c.ms} value={String(c.ms)}>
                {c.text}
              </option>
            ))}
          </select>
        </label>
      )}
      <span class="hint" data-testid="range-text">
        {describeRange(range, zone)} · times in {currentZoneName()}
      </span>
    </fieldset>
  );
}

/** `refresh` from the URL: ms, one of the choices; default 10 s; an absolute range is not refreshed. */
export function refreshFromParams(params: URLSearchParams, range: TimeRange): number {
  if (!isRelative(range)) return 0;
  const ms = Number(params.get('refresh') ?? 10_000);
  return REFRESH_CHOICES.some((c) => c.ms === ms) ? ms : 10_000;
}
