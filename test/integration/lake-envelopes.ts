/**
 * Integration helper: envelopes of five log types (conn, dns, http, ssh, ssl) spread evenly over
 * three whole hours. dns/ssh/ssl carry real WRCCDC Zeek records (test/fixtures/lake); conn and
 * http reuse the same real connection tuples with the Zeek conn/http field names.
 */
import type { Envelope } from '../../src/core/envelope.ts';
import { eventId } from '../../src/core/ids.ts';
import { zeekEnvelope, zeekFixtureLines } from '../lake/envelopes.ts';

export const LOG_TYPES = ['conn', 'dns', 'http', 'ssh', 'ssl'] as const;
export type LakeLogType = (typeof LOG_TYPES)[number];
export const HOUR_MS = 3_600_000;
/** 2026-01-31T10:00:00Z, an hour boundary. */
export const START_MS = Date.parse('2026-01-31T10:00:00Z');

const dns = zeekFixtureLines('dns');
const ssh = zeekFixtureLines('ssh');
const ssl = zeekFixtureLines('ssl');

function rawFor(type: LakeLogType, i: number): Record<string, unknown> {
  switch (type) {
    case 'dns':
      return dns[i % dns.length];
    case 'ssh':
      return ssh[i % ssh.length];
    case 'ssl':
      return ssl[i % ssl.length];
    case 'conn': {
      const base = ssl[i % ssl.length];
      return {
        _path: 'conn',
        ts: base.ts,
        uid: base.uid,
        'id.orig_h': base['id.orig_h'],
        'id.orig_p': base['id.orig_p'],
        'id.resp_h': base['id.resp_h'],
        'id.resp_p': base['id.resp_p'],
        proto: 'tcp',
        service: 'ssl',
        duration: 0.25 + (i % 7),
        orig_bytes: 517 + i,
        resp_bytes: 4096 + i,
        conn_state: 'SF',
      };
    }
    case 'http': {
      const base = dns[i % dns.length];
      return {
        _path: 'http',
        ts: base.ts,
        uid: base.uid,
        'id.orig_h': base['id.orig_h'],
        'id.orig_p': 50_000 + (i % 1000),
        'id.resp_h': base['id.resp_h'],
        'id.resp_p': 80,
        method: 'GET',
        host: base.query,
        uri: `/index.html?i=${i}`,
        status_code: 200,
        user_agent: 'Mozilla/5.0',
      };
    }
  }
}

/**
 * Events [from, to) of a run with `perType` events of each log type; event i of a type is at
 * START + i * (3 h / perType). Built in slices so 200,000 envelopes never sit in memory at once.
 */
export function lakeEnvelopes(perType: number, runId: string, from = 0, to = perType): Envelope[] {
  const out: Envelope[] = [];
  const step = (3 * HOUR_MS) / perType;
  for (let i = from; i < to; i++) {
    for (const type of LOG_TYPES) {
      const raw: Record<string, unknown> = { ...rawFor(type, i), _path: type };
      const env = zeekEnvelope(raw, i, START_MS + Math.floor(i * step));
      env.id = eventId({ kind: 'stream', name: `${runId}-${type}`, sequence: i });
      if (type === 'http') {
        env.normalized.http_method = raw.method;
        env.normalized.url = raw.uri;
        env.normalized.http_status = raw.status_code;
      }
      out.push(env);
    }
  }
  return out;
}

/** Which events topic a log type travels on (as the default routes do). */
export function topicOf(type: string, topics: { network: string; auth: string }): string {
  return type === 'ssh' ? topics.auth : topics.network;
}
