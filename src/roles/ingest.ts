import type { Bus, BusRecord } from '../core/bus.ts';
import type { ComponentContext, Source } from '../core/component.ts';
import type { InputRecord } from '../core/envelope.ts';
import { BusClosedError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { HEADER_BYTES, HEADER_FORMAT, HEADER_POSITION, HEADER_RECEIVED } from './codec.ts';
import { InOrderWindow } from './in-order.ts';

/**
 * The ingest role: sources → raw topics. It only frames and forwards: each input record travels
 * as its text with its position and format hint in headers, keyed by its stream (a file path, a
 * syslog peer) so one stream's lines stay in order on one partition — Zeek TSV headers and syslog
 * year inference depend on that order. A source batch is acked only once it is durable — on Kafka
 * when the broker accepted it, on the in-process bus when its consumers committed it (after the
 * lake flush) — and every earlier batch of its source was acked.
 */

export interface NamedSource {
  name: string;
  topic: string;
  source: Source;
}

/** The stream a record belongs to: its ordering key on the raw topic. */
export function streamKey(record: InputRecord): string {
  const p = record.position;
  switch (p.kind) {
    case 'file':
      return p.path;
    case 'kafka':
      return `${p.topic}:${p.partition}`;
    case 'stream':
      return p.name;
  }
}

export function toRawRecord(record: InputRecord): BusRecord {
  return new RawRecord(record);
}

/**
 * An input record on its way to a raw topic. Its value (the text) and headers (position, format,
 * receive time) are built when a bus reads them — Kafka at once; the in-process bus never does, it
 * hands the input record itself (`decoded`) to the process role.
 */
class RawRecord implements BusRecord {
  readonly key: string;
  readonly timestamp: number;
  readonly decoded: InputRecord;
  #value: Uint8Array | undefined;
  #headers: Record<string, string> | undefined;

  constructor(record: InputRecord) {
    this.key = streamKey(record);
    this.timestamp = record.receivedAt;
    this.decoded = record;
  }

  get value(): Uint8Array {
    this.#value ??= Buffer.from(this.decoded.text, 'utf8');
    return this.#value;
  }

  get headers(): Record<string, string> {
    this.#headers ??= this.#buildHeaders();
    return this.#headers;
  }

  #buildHeaders(): Record<string, string> {
    const record = this.decoded;
    const headers: Record<string, string> = {
      [HEADER_POSITION]: JSON.stringify(record.position),
      [HEADER_RECEIVED]: String(record.receivedAt),
    };
    // Readers default the byte length to the value's: the header travels only when they differ (a
    // line the source cut as too long, bytes that were not valid UTF-8).
    if (record.byteLength !== this.value.byteLength) headers[HEADER_BYTES] = String(record.byteLength);
    if (record.formatHint) headers[HEADER_FORMAT] = record.formatHint;
    return headers;
  }
}

export interface IngestRole {
  /** Runs until every source ends (its batches accepted by the bus) or stop() is called. */
  run(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Waits (at most `timeoutMs`) for the acks still owed, then has each source write its checkpoint:
   * on the in-process bus a batch is acked only once its consumers committed it, so the runtime
   * calls this after draining.
   */
  settle(timeoutMs: number): Promise<void>;
}

/** Source batches published but not yet accepted by the bus, at most, per source. */
export const DEFAULT_MAX_IN_FLIGHT_BATCHES = 8;

/**
 * When a published batch is durable: at once on Kafka (the broker's ack), on the in-process bus
 * once every consumer of the topic committed past it (bus.consumed).
 */
function durableAfter(
  bus: Bus,
  topic: string,
  records: readonly BusRecord[],
  accepted: Promise<void>,
): Promise<void> {
  const consumed = bus.consumed?.bind(bus);
  if (consumed === undefined || records.length === 0) return accepted;
  return accepted.then(() => consumed(topic, records));
}

export function createIngestRole(options: {
  bus: Bus;
  sources: NamedSource[];
  ctx: Pick<ComponentContext, 'logger' | 'telemetry'>;
  maxInFlightBatches?: number;
}): IngestRole {
  const logger: Logger = options.ctx.logger.child({ component: 'ingest' });
  let stopping = false;
  /** Per source, the end of its chain of acks (in order; a failed batch stops the chain, nothing after it is acked). */
  const ackChains = new Map<string, Promise<void>>();

  /** An ack chain that never rejects: a batch not acked is re-read at the next start (same ids). */
  function quiet(acks: Promise<void>, source: string): Promise<void> {
    return acks.catch((err: unknown) => {
      if (!(err instanceof BusClosedError)) logger.error({ err, source }, 'batch not acked');
    });
  }

  async function pump(named: NamedSource): Promise<void> {
    // Several source batches in flight: a batch is published and the next one read at once. Acks
    // follow in order, each once its batch is durable (durableAfter); the bus keeps publish order,
    // so a stream's lines stay in order on its partition.
    const window = new InOrderWindow(options.maxInFlightBatches ?? DEFAULT_MAX_IN_FLIGHT_BATCHES);
    let acks: Promise<void> = Promise.resolve();
    for await (const batch of named.source.batches()) {
      const count = batch.records.length;
      const records = batch.records.map(toRawRecord);
      const accepted = count > 0 ? options.bus.publish(named.topic, records) : Promise.resolve();
      const durable = durableAfter(options.bus, named.topic, records, accepted);
      durable.catch(() => {});
      await window.add(accepted, () => {
        if (count > 0) options.ctx.telemetry.busPublished.inc({ topic: named.topic }, count);
      });
      // Only the ack waits for durability: the batch's records go now (the memory bus lets them go
      // once consumed, releaseDelivered; a crash re-reads them from the source's checkpoint).
      const { ack } = batch;
      acks = acks.then(() => durable).then(() => ack());
      ackChains.set(named.name, quiet(acks, named.name));
      if (stopping) break;
    }
    await window.flush();
    // Kafka acks follow the broker at once: the source is done when they are.
    if (options.bus.consumed === undefined) await ackChains.get(named.name);
    logger.info({ source: named.name }, 'source ended');
  }

  return {
    async run() {
      for (const s of options.sources) await s.source.start();
      await Promise.all(options.sources.map(pump));
    },
    async stop() {
      stopping = true;
      await Promise.all(options.sources.map((s) => s.source.stop()));
    },
    async settle(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.all(ackChains.values()), timeout]);
      clearTimeout(timer);
      await Promise.all(options.sources.map((s) => s.source.flush().catch(() => {})));
    },
  };
}
