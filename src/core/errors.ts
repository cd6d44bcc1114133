/**
 * The error catalogue. Bad data is never an exception (it is a Reject); these are for config,
 * auth and unreachable dependencies. Every code is documented in docs/errors.md (tested).
 */
export const ERROR_CODES = [
  'SOC_CONFIG_INVALID',
  'SOC_USAGE',
  'SOC_KAFKA_UNREACHABLE',
  'SOC_SINK_UNAVAILABLE',
  'SOC_SOURCE_UNAVAILABLE',
  'SOC_RULE_INVALID',
  'SOC_MAPPING_INVALID',
  'SOC_QUERY_REJECTED',
  'SOC_STORE_UNAVAILABLE',
  'SOC_NOT_FOUND',
  'SOC_UNAUTHORIZED',
  'SOC_FORBIDDEN',
  'SOC_SHUTDOWN_TIMEOUT',
  'SOC_INVALID_TRANSITION',
  'SOC_KAFKA_FAILED',
  'SOC_KAFKA_DELIVERY',
  'SOC_BUS_CLOSED',
  'SOC_INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Exit codes of the CLI contract (ARCHITECTURE.md): 0 success, 1 runtime failure, 2 usage/config. */
export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

export class SocError extends Error {
  static readonly code: ErrorCode = 'SOC_SINK_UNAVAILABLE';
  readonly code: ErrorCode;
  readonly exitCode: number = EXIT.runtime;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = (this.constructor as typeof SocError).code;
    this.name = this.constructor.name;
  }
}

/** A config error names the file, the key path, what was expected and the fix. Exit 2. */
export class ConfigError extends SocError {
  static override readonly code = 'SOC_CONFIG_INVALID' as const;
  override readonly exitCode = EXIT.usage;
}
export class UsageError extends SocError {
  static override readonly code = 'SOC_USAGE' as const;
  override readonly exitCode = EXIT.usage;
}
export class KafkaUnreachableError extends SocError {
  static override readonly code = 'SOC_KAFKA_UNREACHABLE' as const;
}
export class SinkUnavailableError extends SocError {
  static override readonly code = 'SOC_SINK_UNAVAILABLE' as const;
}
export class SourceUnavailableError extends SocError {
  static override readonly code = 'SOC_SOURCE_UNAVAILABLE' as const;
}
export class RuleInvalidError extends SocError {
  static override readonly code = 'SOC_RULE_INVALID' as const;
}
export class MappingInvalidError extends SocError {
  static override readonly code = 'SOC_MAPPING_INVALID' as const;
  override readonly exitCode = EXIT.usage;
}
export class QueryRejectedError extends SocError {
  static override readonly code = 'SOC_QUERY_REJECTED' as const;
}
export class StoreUnavailableError extends SocError {
  static override readonly code = 'SOC_STORE_UNAVAILABLE' as const;
}
export class NotFoundError extends SocError {
  static override readonly code = 'SOC_NOT_FOUND' as const;
}
export class UnauthorizedError extends SocError {
  static override readonly code = 'SOC_UNAUTHORIZED' as const;
}
export class ForbiddenError extends SocError {
  static override readonly code = 'SOC_FORBIDDEN' as const;
}
export class ShutdownTimeoutError extends SocError {
  static override readonly code = 'SOC_SHUTDOWN_TIMEOUT' as const;
}
/** An alert status change the workflow does not allow (e.g. closed → acknowledged). HTTP 409. */
export class InvalidTransitionError extends SocError {
  static override readonly code = 'SOC_INVALID_TRANSITION' as const;
}

/** The broker answered, but with an error (a fetch error code), or a consumer's stream ended. */
export class KafkaFailedError extends SocError {
  static override readonly code = 'SOC_KAFKA_FAILED' as const;
}
/**
 * A publish the Kafka cluster did not acknowledge within bus.kafka.delivery_timeout_ms (every
 * resend refused or unanswered), or refused for good (e.g. a record over the broker's size limit).
 */
export class KafkaDeliveryError extends SocError {
  static override readonly code = 'SOC_KAFKA_DELIVERY' as const;
}
/** A publish or subscribe on a bus that was closed (during shutdown). */
export class BusClosedError extends SocError {
  static override readonly code = 'SOC_BUS_CLOSED' as const;
}
/** A broken internal contract: a bug in socstream, never caused by input or config. HTTP 500. */
export class InternalError extends SocError {
  static override readonly code = 'SOC_INTERNAL' as const;
}

/** Every error class, for the catalogue test. */
export const ERROR_CLASSES = [
  ConfigError,
  UsageError,
  KafkaUnreachableError,
  SinkUnavailableError,
  SourceUnavailableError,
  RuleInvalidError,
  MappingInvalidError,
  QueryRejectedError,
  StoreUnavailableError,
  NotFoundError,
  UnauthorizedError,
  ForbiddenError,
  ShutdownTimeoutError,
  InvalidTransitionError,
  KafkaFailedError,
  KafkaDeliveryError,
  BusClosedError,
  InternalError,
] as const;
