import { label } from '../format.ts';

export function LevelBadge({ level }: { level: string }) {
  return <span class={`badge level-${level}`}>{level}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{label(status)}</span>;
}

/** Horizontal bars for a handful of counts (alerts by level, direction, top talkers). */
export function BarList({ rows, empty }: { rows: Array<{ name: string; n: number }>; empty: string }) {
  if (rows.length === 0) return <p class="state empty">{empty}</p>;
  const max = Math.max(...rows.map((r) => r.n), 1);
  return (
    <ul class="bars">
      {rows.map((r) => (
        <li key={r.name}>
          <span class="bar-name">{r.name}</span>
          <span class="bar-track" aria-hidden="true">
            <span class="bar-fill" style={{ width: `${(100 * r.n) / max}%` }} />
          </span>
          <span class="bar-n">{r.n.toLocaleString()}</span>
        </li>
      ))}
    </ul>
  );
}
