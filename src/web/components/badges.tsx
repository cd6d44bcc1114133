import { formatNumber, label } from '../format.ts';

export function LevelBadge({ level }: { level: string }) {
  return <span class={`badge level-${level}`}>{level}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{label(status)}</span>;
}

export interface BarRow {
  name: string;
  n: number;
  /** Where a click on the row goes (a filtered events or alerts page). */
  href?: string;
  /** A second line under the name (the kind of entity, a rule's id). */
  note?: string;
}

/** Horizontal bars for a handful of counts (alerts by level, direction, top talkers); rows link. */
export function BarList({ rows, empty, label: title }: { rows: BarRow[]; empty: string; label?: string }) {
  if (rows.length === 0) return <p class="state empty">{empty}</p>;
  const max = Math.max(...rows.map((r) => r.n), 1);
  return (
    <ul class="bars" aria-label={title}>
      {rows.map((r) => (
        <li key={r.name}>
          <span class="bar-name">
            {r.href ? <a href={r.href}>{r.name}</a> : r.name}
            {r.note && <span class="sub"> {r.note}</span>}
          </span>
          <span class="bar-track" aria-hidden="true">
            <span class="bar-fill" style={{ width: `${(100 * r.n) / max}%` }} />
          </span>
          <span class="bar-n">{formatNumber(r.n)}</span>
        </li>
      ))}
    </ul>
  );
}
