import { useMemo } from 'preact/hooks';
import { queryString } from '../api.ts';
import { BarList } from '../components/badges.tsx';
import { TimeChart } from '../components/chart.tsx';
import { Empty, Loaded } from '../components/states.tsx';
import { formatNumber } from '../format.ts';
import { useApi } from '../hooks.ts';
import { eventsPerSecond, toSeries } from '../model.ts';
import { LEVELS, type Stats } from '../types.ts';

const WINDOW_MS = 15 * 60_000;
const BUCKET_SECONDS = 10;
const REFRESH_MS = 10_000;
export function Overview() {
  // `from` moves once a minute (a new path refetches); between, the 10 s refresh reloads the same
  // window, whose end the server takes as now.
  const from = Math.floor(Date.now() / 60_000) * 60_000 - WINDOW_MS;
  const stats = useApi<Stats>(
    `/api/stats${queryString({ from, bucket_seconds: BUCKET_SECONDS })}`,
    REFRESH_MS,
  );
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <p class="hint">Last 15 minutes, refreshed every 10 seconds.</p>
      <Loaded what="statistics" {...stats}>
        {(s) => <OverviewBody stats={s} />}
      </Loaded>
    </section>
  );
}

function OverviewBody({ stats }: { stats: Stats }) {
  const chart = useMemo(() => toSeries(stats.by_type), [stats]);
  const total = stats.by_type.reduce((s, r) => s + Number(r.n), 0);
  const alerts = Object.values(stats.alerts_by_level).reduce((s, n) => s + n, 0);
  return (
    <>
      <div class="cards">
        <div class="card">
          <span class="card-label">Events / s</span>
          <span class="card-value" data-testid="events-per-second">
            {eventsPerSecond(stats.by_type, stats.bucket_seconds).toFixed(1)}
          </span>
        </div>
        <div class="card">
          <span class="card-label">Events (15 min)</span>
          <span class="card-value">{formatNumber(total)}</span>
        </div>
        <div class="card">
          <span class="card-label">Alerts (15 min)</span>
          <span class="card-value">{formatNumber(alerts)}</span>
        </div>
        <div class="card">
          <span class="card-label">Log types</span>
          <span class="card-value">{chart.series.length}</span>
        </div>
      </div>
      <div class="panel">
        <h2>Events by type</h2>
        {chart.x.length > 0 ? (
          <TimeChart
            x={chart.x}
            series={chart.series}
            title={`Events per ${stats.bucket_seconds} s by log type`}
          />
        ) : (
          <Empty>No events in the lake for this window yet (the lake is written every few seconds).</Empty>
        )}
      </div>
      <div class="grid">
        <div class="panel">
          <h2>Alerts by level</h2>
          <BarList
            rows={LEVELS.filter((l) => stats.alerts_by_level[l]).map((l) => ({
              name: l,
              n: stats.alerts_by_level[l],
            }))}
            empty="No alerts in this window."
          />
        </div>
        <div class="panel">
          <h2>Alerts by rule</h2>
          <BarList
            rows={stats.alerts_by_rule.slice(0, 8).map((r) => ({ name: r.title, n: r.n }))}
            empty="No alerts in this window."
          />
        </div>
        <div class="panel">
          <h2>Top sources</h2>
          <BarList
            rows={stats.top_src.map((r) => ({ name: r.ip, n: Number(r.n) }))}
            empty="No source addresses."
          />
        </div>
        <div class="panel">
          <h2>Top destinations</h2>
          <BarList
            rows={stats.top_dst.map((r) => ({ name: r.ip, n: Number(r.n) }))}
            empty="No destination addresses."
          />
        </div>
        <div class="panel">
          <h2>Direction</h2>
          <BarList
            rows={stats.direction.map((r) => ({ name: r.direction, n: Number(r.n) }))}
            empty="No events."
          />
        </div>
      </div>
    </>
  );
}
