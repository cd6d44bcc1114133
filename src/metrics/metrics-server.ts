import { createServer } from 'node:http';
import type { Telemetry } from '../core/telemetry.ts';

/** /metrics on its own port for roles without the API (ingest, process, correlate, store). */
export async function startMetricsServer(telemetry: Telemetry, port: number, host = '0.0.0.0') {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    telemetry.registry
      .metrics()
      .then((body) => res.writeHead(200, { 'content-type': telemetry.registry.contentType }).end(body))
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
