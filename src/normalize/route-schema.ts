import { z } from 'zod';
import { d } from '../core/describe.ts';

/** One entry of `routes:` in socstream.yaml, the route transform's config (route-transform.ts). */
export const routeSchema = z
  .object({
    match: z
      .object({
        source: d(z.string().optional(), 'Envelope source to match'),
        log_type: d(z.string().optional(), 'Envelope log_type to match'),
        event_class: d(
          z.string().optional(),
          'normalized.event_class to match; all given keys must be equal',
        ),
      })
      .strict(),
    topic: d(z.string(), 'Topic for the matching events'),
    key: d(z.array(z.string()).default(['src_ip']), 'Normalized fields tried in order for the record key'),
  })
  .strict();

export type RouteConfig = z.infer<typeof routeSchema>;
