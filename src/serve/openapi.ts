/** /api/openapi.json, generated from the route schemas fastify registered (one source of truth). */
export interface RouteDoc {
  method: string;
  url: string;
  schema?: {
    summary?: string;
    querystring?: unknown;
    params?: unknown;
    body?: unknown;
    response?: Record<string, unknown>;
  };
  role?: string;
}

interface JsonObjectSchema {
  properties?: Record<string, Record<string, unknown>>;
  required?: string[];
}

function parameters(schema: unknown, where: 'query' | 'path'): unknown[] {
  const s = schema as JsonObjectSchema | undefined;
  return Object.entries(s?.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (s?.required ?? []).includes(name),
    schema: prop,
    ...(typeof prop.description === 'string' ? { description: prop.description } : {}),
  }));
}

export function buildOpenApi(routes: readonly RouteDoc[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const op: Record<string, unknown> = {
      summary: r.schema?.summary ?? '',
      parameters: [...parameters(r.schema?.params, 'path'), ...parameters(r.schema?.querystring, 'query')],
      responses: Object.fromEntries(
        Object.entries(r.schema?.response ?? { 200: {} }).map(([code, schema]) => [
          code,
          { description: code, content: { 'application/json': { schema } } },
        ]),
      ),
    };
    if (r.schema?.body)
      op.requestBody = { required: true, content: { 'application/json': { schema: r.schema.body } } };
    if (r.role) {
      op.security = [{ bearer: [] }];
      op['x-role'] = r.role;
      (op.responses as Record<string, unknown>)['401'] = { description: 'missing or unknown token' };
      (op.responses as Record<string, unknown>)['403'] = { description: `needs the ${r.role} role` };
      (op.responses as Record<string, unknown>)['429'] = { description: 'rate limit per token' };
    }
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'socstream API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
