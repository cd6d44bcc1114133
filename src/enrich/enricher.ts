import type { Envelope } from '../core/envelope.ts';
import type { Logger } from '../core/logger.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { ENRICHMENTS, type EnrichmentName } from '../normalize/mapping.ts';
import { type AssetTable, loadAssetTable } from './assets.ts';
import type { EnrichConfig } from './enrich-schema.ts';
import { createGeoEnricher, type GeoEnricher } from './geo.ts';
import { createIocStore, type IocStore } from './ioc.ts';
import { createNetworkEnricher } from './network.ts';
import { createTimeEnricher } from './time.ts';

/**
 * The enrichment stage: fills `env.enriched` in place from `env.normalized`. Network and time need
 * nothing but config; IOC lists, the asset table and GeoIP databases are loaded by `start()` (IOC
 * lists are then watched and reloaded on change). A mapping names which enrichments apply to its
 * log type (Normalizer.enrichmentsFor); without that list every configured enrichment runs.
 */
export interface Enricher {
  enrich(env: Envelope, which?: ReadonlySet<EnrichmentName>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface EnricherContext {
  logger: Logger;
  telemetry?: Telemetry;
  /** IOC reload debounce (tests shorten it). */
  iocDebounceMs?: number;
  /** Called after an IOC list was reloaded (tests and logs). */
  onIocReload?: (list: string, size: number) => void;
}

/** Bits of the enrichment flags: the index of each name in ENRICHMENTS. */
const NETWORK = 1 << ENRICHMENTS.indexOf('network');
const TIME = 1 << ENRICHMENTS.indexOf('time');
const IOC = 1 << ENRICHMENTS.indexOf('ioc');
const ASSETS = 1 << ENRICHMENTS.indexOf('assets');
const GEO = 1 << ENRICHMENTS.indexOf('geo');

const ALL = NETWORK | TIME | IOC | ASSETS | GEO;

function flagsOf(
  which: ReadonlySet<EnrichmentName>,
  cache: WeakMap<ReadonlySet<EnrichmentName>, number>,
): number {
  let flags = 0;
  for (let bit = 0; bit < ENRICHMENTS.length; bit++) if (which.has(ENRICHMENTS[bit])) flags |= 1 << bit;
  cache.set(which, flags);
  return flags;
}

export function createEnricher(config: EnrichConfig, ctx: EnricherContext): Enricher {
  const logger = ctx.logger.child({ component: 'enrich' });
  const network = createNetworkEnricher(config.home_networks);
  const time = createTimeEnricher(config.timezone);
  const isPublic = (ip: string): boolean => network.info(ip)?.ipClass === 'public';
  let ioc: IocStore | undefined;
  let assets: AssetTable | undefined;
  let geo: GeoEnricher | undefined;
  // A `which` set as flags, read once per set: sets come from the mappings (one object per log type
  // and never changed), and consecutive events nearly always share one.
  const flagsBySet = new WeakMap<ReadonlySet<EnrichmentName>, number>();
  let lastWhich: ReadonlySet<EnrichmentName> | undefined | null = null;
  let flags = 0;
  return {
    enrich(env, which) {
      if (which !== lastWhich) {
        flags = which === undefined ? ALL : (flagsBySet.get(which) ?? flagsOf(which, flagsBySet));
        lastWhich = which;
      }
      const n = env.normalized;
      const e = env.enriched;
      if (flags & NETWORK) network.apply(n, e);
      if (flags & TIME) time.apply(n, e);
      if (ioc !== undefined && flags & IOC) {
        const matches = ioc.index().match(n);
        e.ioc = matches;
        if (ctx.telemetry) for (const m of matches) ctx.telemetry.iocMatches.inc({ list: m.list });
      }
      if (assets !== undefined && flags & ASSETS) assets.apply(n, e);
      if (geo !== undefined && flags & GEO) geo.apply(n, e, isPublic);
    },
    async start() {
      if (config.ioc.length > 0) {
        ioc = createIocStore(config.ioc, {
          logger,
          debounceMs: ctx.iocDebounceMs,
          onReload: (list, size) => {
            ctx.telemetry?.iocReloads.inc({ list });
            ctx.onIocReload?.(list, size);
          },
        });
        await ioc.load();
        ioc.watch();
      }
      if (config.assets) assets = await loadAssetTable(config.assets);
      geo = await createGeoEnricher({ cityDb: config.geoip.city_db, asnDb: config.geoip.asn_db });
      logger.debug(
        { ioc_indicators: ioc?.index().size ?? 0, assets: assets?.size ?? 0, geo: geo !== undefined },
        'enrichment ready',
      );
    },
    async stop() {
      ioc?.close();
    },
  };
}
