/**
 * Client options shared by every @platformatic/kafka client socstream opens (the bus's producer,
 * consumers and admin in kafka.ts, the group-less range reader in kafka-reader.ts), from the
 * `bus.kafka` config section. A file of its own so both import it without importing each other.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { BaseOptions } from '@platformatic/kafka';
import type { z } from 'zod';
import { backoffMs } from './backoff.ts';
import type { kafkaSchema } from './bus-schema.ts';

export type KafkaConfig = z.infer<typeof kafkaSchema>;

function tlsOptions(ssl: KafkaConfig['ssl']): TlsOptions | undefined {
  if (ssl === undefined) return undefined;
  return {
    rejectUnauthorized: ssl.reject_unauthorized,
    ...(ssl.ca_file ? { ca: readFileSync(ssl.ca_file) } : {}),
    ...(ssl.cert_file ? { cert: readFileSync(ssl.cert_file) } : {}),
    ...(ssl.key_file ? { key: readFileSync(ssl.key_file) } : {}),
  };
}

/** Client options shared by producer, consumers and admin, from the bus.kafka config section. */
export function clientOptions(config: KafkaConfig, role: string): BaseOptions {
  return {
    clientId: `${config.client_id}-${role}`,
    bootstrapBrokers: config.brokers,
    connectTimeout: config.connect_timeout_ms,
    retries: config.retries,
    retryDelay: (_client, _op, attempt) => backoffMs(attempt),
    ...(config.sasl
      ? {
          sasl: {
            mechanism: config.sasl.mechanism,
            username: config.sasl.username,
            password: config.sasl.password,
          },
        }
      : {}),
    ...(config.ssl ? { tls: tlsOptions(config.ssl) } : {}),
  };
}
