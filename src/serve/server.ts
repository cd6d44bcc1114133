import type { FastifyInstance } from 'fastify';
import { buildApp, type ServeDeps } from './app.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Builds the app and listens; `port: 0` picks a free port (tests). */
export async function startServer(deps: ServeDeps, host: string, port: number): Promise<RunningServer> {
  const app = await buildApp(deps);
  await app.listen({ host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return { app, url: `http://${shownHost}:${actualPort}`, close: () => app.close() };
}
