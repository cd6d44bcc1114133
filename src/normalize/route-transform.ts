import { z } from 'zod';
import { idleLifecycle, type Lifecycle, type TransformDefinition } from '../core/component.ts';
import { d } from '../core/describe.ts';
import type { Envelope } from '../core/envelope.ts';
import { createRouter, type Route } from './route.ts';
import { routeSchema } from './route-schema.ts';

/** `routes:` in socstream.yaml (moved from src/config/schema.ts). */
export const routesSchema = d(
  z.array(routeSchema).default([]),
  'Routing rules, first match wins; defaults route by class',
);

export interface RouteTransform extends Lifecycle {
  readonly route: (env: Envelope) => Route;
}

/** The class topics' default names (topics: in socstream.yaml), when the context names none. */
const DEFAULT_CLASS_TOPICS = {
  network: 'events.network',
  auth: 'events.auth',
  web: 'events.web',
  other: 'events.other',
};

/** `route`: picks each event's topic and record key (docs/routing in docs/config.md, routes). */
export const routeTransform: TransformDefinition<z.infer<typeof routesSchema>, RouteTransform> = {
  type: 'route',
  kind: 'transform',
  section: 'routes',
  summary: "Picks each event's topic and key: the first matching route, else its class topic",
  config: routesSchema,
  example: [{ match: { source: 'zeek' }, topic: 'zeek-normalized' }],
  create: (routes, ctx) => ({
    ...idleLifecycle(),
    route: createRouter(routes, ctx.topics ?? DEFAULT_CLASS_TOPICS),
  }),
};
