import { useCallback, useMemo } from 'preact/hooks';
import { queryString } from '../api.ts';
import { BarList } from '../components/badges.tsx';
import { TimeChart } from '../components/chart.tsx';
import { Empty, Loaded, StaleMarker } from '../components/states.tsx';
import { refreshFromParams, TimeBar } from '../components/time-bar.tsx';
import { formatNumber } from '../format.ts';
import { useApi } from '../hooks.ts';
import { alertBars, eventsPerSecond, partialBucketStart, toSeries } from '../model.ts';
import { hrefTo, setParams } from '../route.ts';
import { bucketSeconds, queryRange, rangeFromParams, resolveRange, type TimeRange } from '../time.ts';
import { LEVELS, type Stats } from '../types.ts';

interface Sources {
  sources: Array<{ ip: string; n: number; targets: number }>;
}
interface Timeline {
  from: number;
  to: number;
  bucket_seconds: number;
  rows: Array<{ t: number; level: string; n: number }>;
}
interface Groups {
  groups: Array<{ key: string; label: string; alerts: number; events: number; max_level: string }>;
}

/** The API window (time.ts queryRange) and a bucket giving at most ~120 points over it. */
function queryWindow(range: TimeRange): { from: number; to?: number; bucket: number } {
  const now = Date.now();
  const { fromMs, toMs } = resolveRange(range, now);
  return { ...queryRange(range, now), bucket: bucketSeconds(fromMs, toMs) };
}

export function Overview({ params }: { params: URLSearchParams }) {
  const range = rangeFromParams(params);
  const refreshMs = refreshFromParams(params, range);
  const w = queryWindow(range);
  const span = { from: w.from, to: w.to };
  const stats = useApi<Stats>(`/api/stats${queryString({ ...span, bucket_seconds: w.bucket })}`, refreshMs);
  const sources = useApi<Sources>(`/api/stats/sources${queryString(span)}`, refreshMs);
  const entities = useApi<Groups>(`/api/alerts/groups${queryString({ by: 'entity', ...span })}`, refreshMs);
  const timeline = useApi<Timeline>(
    `/api/alerts/timeline${queryString({ ...span, bucket_seconds: w.bucket })}`,
    refreshMs,
  );
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <TimeBar range={range} refreshMs={refreshMs} />
      <Loaded what="statistics" {...stats}>
        {(s) => (
          <OverviewBody
            stats={s}
            range={range}
            sources={sources.data?.sources ?? null}
            entities={entities.data?.groups ?? null}
            timeline={timeline.data}
          />
        )}
      </Loaded>
      {stats.data && (sources.stale || entities.stale) && (
        <StaleMarker updatedAt={sources.updatedAt} error={sources.error ?? entities.error} />
      )}
    </section>
  );
}

/** Where an entity's events are: IPs by source address, anything else by user. */
export function entityEventsHref(entity: string, kind: string, range: TimeRange): string {
  const isIp = kind.endsWith('_ip') || /^[0-9a-f:.]+$/i.test(entity);
  return hrefTo('/events', { ...(isIp ? { src_ip: entity } : { user: entity }), ...range });
}

function OverviewBody({
  stats,
  range,
  sources,
  entities,
  timeline,
}: {
  stats: Stats;
  range: TimeRange;
  sources: Sources['sources'] | null;
  entities: Groups['groups'] | null;
  timeline: Timeline | null;
}) {
  const alertChart = useMemo(
    () => timeline && alertBars(timeline.rows, timeline.from, timeline.to, timeline.bucket_seconds),
    [timeline],
  );
  const zoom = useCallback((fromMs: number, toMs: number) => setParams({ from: fromMs, to: toMs }), []);
  const chart = useMemo(() => toSeries(stats.by_type), [stats]);
  const partial = partialBucketStart(chart.x, stats.bucket_seconds, stats.to);
  const total = stats.by_type.reduce((s, r) => s + Number(r.n), 0);
  const alerts = Object.values(stats.alerts_by_level).reduce((s, n) => s + n, 0);
  const r = { from: range.from, to: range.to };
  return (
    <>
      <div class="cards">
        <div class="card">
          <span class="card-label">Events / s</span>
          <span class="card-value" data-testid="events-per-second">
            {eventsPerSecond(stats.by_type, stats.bucket_seconds).toFixed(1)}
          </span>
        </div>
        <a class="card" href={hrefTo('/events', r)}>
          <span class="card-label">Events</span>
          <span class="card-value">{formatNumber(total)}</span>
        </a>
        <a class="card" href={hrefTo('/alerts', r)}>
          <span class="card-label">Alerts</span>
          <span class="card-value">{formatNumber(alerts)}</span>
        </a>
        <div class="card">
          <span class="card-label">Log types</span>
          <span class="card-value">{chart.series.length}</span>
        </div>
      </div>
      <div class="panel">
        <h2>Events by type</h2>
        {chart.x.length > 0 ? (
          <>
            <TimeChart
              x={chart.x}
              series={chart.series}
              partialFrom={partial}
              title={`Events per ${stats.bucket_seconds} s by log type`}
            />
            <p class="hint">
              Search a type:{' '}
              {chart.series.map((s, i) => (
                <span key={s.name}>
                  {i > 0 && ' · '}
                  <a href={hrefTo('/events', { log_type: s.name, ...r })}>{s.name}</a>
                </span>
              ))}
              {partial !== undefined &&
                ' — the shaded last bucket may still be filling (the lake is written every few seconds).'}
            </p>
          </>
        ) : (
          <Empty>No events in the lake for this range yet (the lake is written every few seconds).</Empty>
        )}
      </div>
      <div class="panel">
        <h2>Alerts over time</h2>
        {alertChart?.series[0].values.some((n) => (n ?? 0) > 0) ? (
          <TimeChart
            x={alertChart.x}
            series={alertChart.series}
            bars
            height={140}
            yLabel="alerts"
            onSelect={zoom}
            title={`Alerts raised per ${timeline?.bucket_seconds} s (by first event) — drag to zoom`}
          />
        ) : (
          <Empty>{alertChart ? 'No alerts in this range.' : 'Loading…'}</Empty>
        )}
      </div>
      <div class="grid">
        <div class="panel">
          <h2>Top external sources</h2>
          {sources === null ? (
            <p class="state">Loading…</p>
          ) : (
            <BarList
              label="Top external sources"
              rows={sources.map((s) => ({
                name: s.ip,
                n: s.n,
                note: s.targets > 0 ? `→ ${s.targets} host${s.targets === 1 ? '' : 's'}` : undefined,
                href: hrefTo('/events', { src_ip: s.ip, ...r }),
              }))}
              empty="No traffic from outside the home networks in this range."
            />
          )}
        </div>
        <div class="panel">
          <h2>Top alerted entities</h2>
          {entities === null ? (
            <p class="state">Loading…</p>
          ) : (
            <BarList
              label="Top alerted entities"
              rows={entities.slice(0, 10).map((g) => ({
                name: g.key,
                n: g.alerts,
                note: `${g.label}, ${g.max_level}`,
                href: hrefTo('/alerts', { entity: g.key, ...r }),
              }))}
              empty="No alerts in this range."
            />
          )}
        </div>
        <div class="panel">
          <h2>Alerts by level</h2>
          <BarList
            label="Alerts by level"
            rows={LEVELS.filter((l) => stats.alerts_by_level[l]).map((l) => ({
              name: l,
              n: stats.alerts_by_level[l],
              href: hrefTo('/alerts', { level: l, ...r }),
            }))}
            empty="No alerts in this range."
          />
        </div>
        <div class="panel">
          <h2>Alerts by rule</h2>
          <BarList
            label="Alerts by rule"
            rows={stats.alerts_by_rule.slice(0, 8).map((a) => ({
              name: a.title,
              n: a.n,
              href: hrefTo('/alerts', { rule_id: a.rule_id, ...r }),
            }))}
            empty="No alerts in this range."
          />
        </div>
        <div class="panel">
          <h2>Top sources (all)</h2>
          <BarList
            label="Top sources"
            rows={stats.top_src.map((s) => ({
              name: s.ip,
              n: Number(s.n),
              href: hrefTo('/events', { src_ip: s.ip, ...r }),
            }))}
            empty="No source addresses."
          />
        </div>
        <div class="panel">
          <h2>Top destinations</h2>
          <BarList
            label="Top destinations"
            rows={stats.top_dst.map((s) => ({
              name: s.ip,
              n: Number(s.n),
              href: hrefTo('/events', { dst_ip: s.ip, ...r }),
            }))}
            empty="No destination addresses."
          />
        </div>
        <div class="panel">
          <h2>Direction</h2>
          <BarList
            label="Direction"
            rows={stats.direction.map((d) => ({ name: d.direction, n: Number(d.n) }))}
            empty="No events."
          />
        </div>
      </div>
    </>
  );
}
