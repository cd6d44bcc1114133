/**
 * The API's shapes as the dashboard reads them (see docs/api.md). Alerts and live events are the
 * server's own types (type-only imports: nothing of the server is bundled).
 */
import type { Alert, AlertStatus, Level } from '../detect/alert.ts';

import type { FieldValues } from '../serve/event-fields.ts';
import type { LiveEvent } from '../serve/live.ts';

export type { Alert, AlertStatus, FieldValues, Level, LiveEvent };

export const LEVELS: readonly Level[] = ['critical', 'high', 'medium', 'low', 'informational'];
export const STATUSES: readonly AlertStatus[] = ['new', 'acknowledged', 'closed', 'false_positive'];

export interface AlertPage {
  alerts: Alert[];
  next_cursor: string | null;
}

export interface HistoryEntry {
  at: number;
  actor: string;
  action: string;
  from: string | null;
  to: string | null;
  note: string | null;
}

export type EventRow = Record<string, unknown> & { id: string; log_type: string; event_time: number };

export interface EventPage {
  events: EventRow[];
  next_cursor: string | null;
  /** The scan budget ran out before the page filled: read up to `searched_to` (event time, ms). */
  partial?: boolean;
  searched_to?: number;
}

export interface Stats {
  from: number;
  to: number;
  bucket_seconds: number;
  by_type: Array<{ t: number; log_type: string; n: number }>;
  top_src: Array<{ ip: string; n: number }>;
  top_dst: Array<{ ip: string; n: number }>;
  direction: Array<{ direction: string; n: number }>;
  alerts_by_level: Record<string, number>;
  alerts_by_rule: Array<{ rule_id: string; title: string; n: number }>;
}

export type LiveItem =
  | { seq: number; kind: 'alert'; data: Alert }
  | { seq: number; kind: 'event'; data: LiveEvent };
