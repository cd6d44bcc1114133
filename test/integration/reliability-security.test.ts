/**
 * Security checks of issue 9 not covered elsewhere (docs/reliability.md lists the others):
 * secrets never reach a log line, also when the Kafka connection fails; the Kafka SASL/SSL options
 * are validated and passed through to the client.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import { clientOptions } from '../../src/bus/kafka-client-options.ts';
import { kafkaSchema } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/logger.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const SASL_PASSWORD = 'sasl-secret-Zq81-must-not-be-logged';
const TOKEN = 'api-token-Xk92-must-not-be-logged-0123456789';
const ENV_TOKEN = 'env-token-Pw33-must-not-be-logged-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'socstream-security-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function capture(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  let out = '';
  const destination = new Writable({
    write(chunk, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { logger: createLogger({ destination, level: 'trace' }), text: () => out };
}

test('the logger redacts SASL passwords, tokens and authorization headers in the shapes the code logs', () => {
  const { logger, text } = capture();
  const kafka = kafkaSchema.parse({ sasl: { mechanism: 'PLAIN', username: 'u', password: SASL_PASSWORD } });
  logger.info({ kafka }, 'bus config');
  logger.info({ sasl: kafka.sasl }, 'sasl');
  logger.info({ config: { sasl: kafka.sasl } }, 'nested');
  logger.info({ token: TOKEN }, 'token');
  logger.info({ req: { headers: { authorization: `Bearer ${TOKEN}` } } }, 'request');
  logger.info({ headers: { authorization: `Bearer ${TOKEN}` } }, 'headers');
  const logged = text();
  assert.equal(logged.split('\n').filter(Boolean).length, 6);
  assert.ok(!logged.includes(SASL_PASSWORD), logged);
  assert.ok(!logged.includes(TOKEN), logged);
  assert.ok(logged.includes('[redacted]'));
});

test('socstream run with SASL on an unreachable broker fails (exit 1) without logging the password or any token', () => {
  const config = {
    data_dir: dir,
    log_level: 'trace',
    bus: {
      type: 'kafka',
      kafka: {
        brokers: ['127.0.0.1:1'],
        retries: 0,
        connect_timeout_ms: 1000,
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'socstream', password: SASL_PASSWORD },
      },
    },
    serve: { port: 0, tokens: [{ name: 'ops', role: 'admin', token: TOKEN }] },
    lake: { dir: join(dir, 'lake') },
  };
  const file = join(dir, 'socstream.yaml');
  writeFileSync(file, stringify(config));
  const r = spawnSync(process.execPath, [MAIN, 'run', '--config', file, '--role', 'store,serve'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, SOCSTREAM_TOKEN_CI: `viewer:${ENV_TOKEN}` },
  });
  const output = r.stdout + r.stderr;
  assert.equal(r.status, 1, output.slice(-2000));
  for (const secret of [SASL_PASSWORD, TOKEN, ENV_TOKEN])
    assert.ok(!output.includes(secret), `${secret} logged`);
});

test('Kafka SASL/SSL options: bad ones are refused by the schema, good ones reach the client', () => {
  const bad = [
    { sasl: { mechanism: 'GSSAPI', username: 'u', password: 'p' } },
    { sasl: { mechanism: 'PLAIN', username: 'u', password: '' } },
    { sasl: { mechanism: 'PLAIN', username: 'u' } },
    { sasl: { mechanism: 'PLAIN', username: 'u', password: 'p', pasword: 'typo' } },
    { ssl: { ca: 'inline-not-supported' } },
    { ssl: { reject_unauthorized: 'no' } },
  ];
  for (const b of bad) assert.equal(kafkaSchema.safeParse(b).success, false, JSON.stringify(b));

  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const options = clientOptions(
    kafkaSchema.parse({
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: SASL_PASSWORD },
      ssl: { ca_file: ca, reject_unauthorized: false },
    }),
    'test',
  ) as unknown as { sasl: Record<string, string>; tls: { ca: Buffer; rejectUnauthorized: boolean } };
  assert.deepEqual(options.sasl, { mechanism: 'SCRAM-SHA-256', username: 'u', password: SASL_PASSWORD });
  assert.equal(options.tls.rejectUnauthorized, false);
  assert.match(options.tls.ca.toString(), /BEGIN CERTIFICATE/);
  // A CA file that is not there fails at once, naming the file.
  assert.throws(
    () => clientOptions(kafkaSchema.parse({ ssl: { ca_file: join(dir, 'nope.pem') } }), 'x'),
    /nope\.pem/,
  );
});
