/** The alert record shared by detection, the alert store, the API and the dashboard. */
export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

export const ALERT_STATUSES = ['new', 'acknowledged', 'closed', 'false_positive'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export interface Alert {
  /** Deterministic: stableId(rule_id, group key, window start). A rebuild never double-alerts. */
  id: string;
  rule_id: string;
  rule_title: string;
  level: Level;
  tags: string[];
  /** Group-by field → value (empty for single-event rules grouped by nothing). */
  group: Record<string, string>;
  /** The main entity for filtering and display (src_ip, user, host): first group value or the event's src_ip. */
  entity: string | null;
  /** Matching events (or correlated matches) folded into this alert. */
  count: number;
  /** Event time, epoch ms. */
  first_seen: number;
  last_seen: number;
  /** Contributing event ids, capped (the first N). */
  event_ids: string[];
  summary: string;
  status: AlertStatus;
  assignee: string | null;
  /** When the alert was raised (processing time, epoch ms); used for detection latency. */
  created_at: number;
}
