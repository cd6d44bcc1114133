import type { Envelope, Reject } from '../core/envelope.ts';
import type { MatchMessage } from '../detect/matches.ts';
import type { PackedBatch, PackedRecords } from './process-worker-codec.ts';
import type { MetricOps } from './process-worker-telemetry.ts';

/** The messages between the process role and its worker thread (process-worker.ts). */

/** workerData: what the worker builds its engine, matcher and lake from. */
export interface WorkerInit {
  /** The whole parsed config (plain data): the worker builds the same engine, rules and lake. */
  config: unknown;
  /** The config file's name, for error messages. */
  file: string;
  topics: Array<{ topic: string; format?: string }>;
  /** Match single-event rules (the role has a detection half). */
  detection: boolean;
  /** Send each batch's envelopes back (a live tail or event routes read them). */
  wantEnvelopes: boolean;
  /**
   * Encode the matches records in the worker (a bus that serializes: Kafka), packed per partition
   * of the matches topic as the role would (codec.ts matchRecords); else the messages come back.
   */
  encodeMatches: boolean;
  /** Partitions of the matches topic (read by the role at start), for the packing. */
  matchPartitions?: number;
}

export type ToWorker =
  | { type: 'batch'; id: number; packed: PackedBatch }
  | { type: 'reload' }
  | { type: 'flush'; id: number }
  | { type: 'stop'; id: number };

export type ToMain =
  | { type: 'ready' }
  | { type: 'fatal'; message: string; stack?: string }
  | {
      type: 'processed';
      id: number;
      /** The messages, when not encoded here. */
      matches: MatchMessage[];
      /** The matches records, encoded (WorkerInit.encodeMatches). */
      matchRecords?: PackedRecords;
      rejects: Reject[];
      /** Events per [source, log_type, count]. */
      counts: Array<[string, string, number]>;
      envelopes?: Envelope[];
    }
  /** A batch's events are in renamed Parquet files (or it had none). */
  | { type: 'durable'; id: number }
  /** A batch's lake write, or a request, failed. */
  | { type: 'failed'; id: number; message: string }
  /** A flush or stop request completed. */
  | { type: 'done'; id: number }
  | { type: 'blocked'; blocked: boolean }
  /** What the worker's metrics recorded since the last such message. */
  | { type: 'metrics'; ops: MetricOps };
