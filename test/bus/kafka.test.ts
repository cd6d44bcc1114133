/** Unit tests of the Kafka bus that need no broker (the contract runs in test/integration). */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { backoffMs } from '../../src/bus/backoff.ts';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { clientOptions } from '../../src/bus/kafka-client-options.ts';
import { kafkaSchema } from '../../src/config/schema.ts';

it('passes brokers, timeouts, retries, SASL and TLS from bus.kafka to the client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'socstream-tls-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
  const config = kafkaSchema.parse({
    brokers: ['k1:9093', 'k2:9093'],
    client_id: 'soc',
    connect_timeout_ms: 4000,
    retries: 3,
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'svc', password: 'secret' },
    ssl: { ca_file: join(dir, 'ca.pem'), reject_unauthorized: false },
  });
  const options = clientOptions(config, 'producer');
  assert.equal(options.clientId, 'soc-producer');
  assert.deepEqual(options.bootstrapBrokers, ['k1:9093', 'k2:9093']);
  assert.equal(options.connectTimeout, 4000);
  assert.equal(options.retries, 3);
  assert.deepEqual(options.sasl, { mechanism: 'SCRAM-SHA-512', username: 'svc', password: 'secret' });
  assert.equal(options.tls?.rejectUnauthorized, false);
  assert.equal(String(options.tls?.ca), 'CA PEM');
  assert.equal(clientOptions(kafkaSchema.parse({}), 'admin').tls, undefined, 'no TLS unless configured');
});

it('backs off exponentially with jitter, capped at 5 s', () => {
  for (let attempt = 1; attempt <= 12; attempt++) {
    const ceiling = Math.min(5000, 100 * 2 ** (attempt - 1));
    for (let i = 0; i < 20; i++) {
      const ms = backoffMs(attempt);
      assert.ok(ms >= ceiling / 2 && ms <= ceiling, `attempt ${attempt}: ${ms} ms`);
    }
  }
});

it('opens no connection until used, and closes cleanly when never used', async () => {
  const bus = new KafkaBus(kafkaSchema.parse({ brokers: ['127.0.0.1:1'] }));
  assert.equal(bus.bootstrap, '127.0.0.1:1');
  await bus.close();
});
