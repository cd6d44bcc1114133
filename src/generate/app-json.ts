import { isoTime } from './time-format.ts';
import type { GeneratedItem } from './types.ts';

/**
 * The observability seed's FastAPI auth service logs (seeds/004: its Lua parser reads `service`,
 * `event`, `ip`, `username`, `level`, `user_id`, `role`, `reason`, `device_type`, `browser`, `os`,
 * `is_bot`, `duration_ms`, `status`, `failed_attempts_window`, `retry_after`). Python json.dumps
 * spacing (`"service": "fastapi"`) because the seed's parser matches both spellings.
 */
export interface AppLoginEvent {
  event: 'login_success' | 'login_failed' | 'login_blocked';
  username: string;
  userId: number | null;
  role: string | null;
  ip: string;
  reason: string | null;
  deviceType: 'desktop' | 'mobile' | 'bot';
  browser: string;
  os: string;
  durationMs: number;
  status: number;
  failedAttemptsWindow: number | null;
  retryAfter: number | null;
}

const LEVEL = { login_success: 'INFO', login_failed: 'WARNING', login_blocked: 'WARNING' } as const;

export function appJsonLine(timeMs: number, e: AppLoginEvent): GeneratedItem {
  const line =
    `{"timestamp": "${isoTime(timeMs)}", "level": "${LEVEL[e.event]}", "service": "fastapi", "event": "${e.event}", ` +
    `"username": ${JSON.stringify(e.username)}, "user_id": ${e.userId ?? 'null'}, "role": ${e.role ? JSON.stringify(e.role) : 'null'}, ` +
    `"ip": "${e.ip}", "reason": ${e.reason ? JSON.stringify(e.reason) : 'null'}, "device_type": "${e.deviceType}", ` +
    `"browser": "${e.browser}", "os": "${e.os}", "is_bot": ${e.deviceType === 'bot'}, "duration_ms": ${e.durationMs.toFixed(2)}, ` +
    `"status": ${e.status}, "failed_attempts_window": ${e.failedAttemptsWindow ?? 'null'}, "retry_after": ${e.retryAfter ?? 'null'}}`;
  return { format: 'app-json', line, logTypeHint: 'app', timeMs, key: e.ip };
}
