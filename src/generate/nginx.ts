import { nginxTime } from './time-format.ts';
import type { GeneratedItem } from './types.ts';

/**
 * nginx `combined` log_format:
 * `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
 * (compare /work/shared/data/nginx/elastic-beats/access.log).
 */
export interface NginxRequest {
  clientIp: string;
  user?: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  referrer?: string;
  userAgent: string;
}

export function nginxLine(timeMs: number, r: NginxRequest): GeneratedItem {
  const line =
    `${r.clientIp} - ${r.user ?? '-'} [${nginxTime(timeMs)}] "${r.method} ${r.path} HTTP/1.1" ${r.status} ${r.bytes} ` +
    `"${r.referrer ?? '-'}" "${r.userAgent}"`;
  return { format: 'nginx', line, logTypeHint: 'access', timeMs, key: r.clientIp };
}
