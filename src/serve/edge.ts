import type { FastifyInstance } from 'fastify';
import { accessLogHooks } from './access-log.ts';
import { authHook, loadTokenDigests } from './auth.ts';
import { corsHook } from './cors.ts';
import type { ResolvedOptions } from './options.ts';
import { REQUEST_ID_HEADER } from './request-id.ts';

// What stands between the network and the routes, in the order it must run: the request id
// first (every answer carries it, refusals included), the access log's clock and trace (so a
// 401 is logged too), CORS (preflights carry no credentials, so they are answered before auth),
// then auth.

export async function installEdge(app: FastifyInstance, options: ResolvedOptions): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  if (options.accessLog) accessLogHooks(app, options.accessLog);
  if (options.corsOrigins.length > 0) corsHook(app, options.corsOrigins);
  if (options.authTokenFile !== undefined) authHook(app, await loadTokenDigests(options.authTokenFile), options.authOpenPaths);
}
