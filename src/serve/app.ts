import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { ServeContext } from './context.ts';
import { HttpError, toHttpError } from './http-error.ts';
import { bodyTooLarge, IMAGE_TYPES, unsupportedType } from './media.ts';
import { batchRoute } from './routes/batch.ts';
import { classifyRoute } from './routes/classify.ts';
import { probeRoutes } from './routes/probes.ts';
import { v2Routes } from './routes/v2.ts';
import { v2InferRoutes } from './routes/v2-infer.ts';
import { footwearVersion } from '../node/index.ts';
import { webRoutes } from './routes/web.ts';
import { installEdge } from './edge.ts';
import { requestId } from './request-id.ts';

// The HTTP surface: Fastify with only the body parsers this API takes, one JSON error shape,
// per-route metrics, and Connection: close on every answer once draining has begun.

const errorBody = (error: HttpError) => ({ error: { code: error.code, message: error.message } });

export async function buildApp(context: ServeContext): Promise<FastifyInstance> {
  const { options, metrics } = context;
  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes,
    // While closing, Fastify would answer 503 in its own body shape; the context answers instead.
    return503OnClosing: false,
    // A caller's X-Request-Id when it is sane, else a fresh one (request-id.ts).
    genReqId: requestId,
    // A URL the router cannot even decode gets the same JSON error shape as everything else.
    frameworkErrors: (error, _request, reply) => {
      metrics.errors.inc({ kind: 'bad-request' });
      // Fastify types this reply for a route schema that cannot exist yet, hence the widening.
      void (reply as unknown as FastifyReply).code(400).send(errorBody(new HttpError(400, 'bad-request', error.message)));
    },
  });

  await installEdge(app, options);

  // JSON and text parsers would let a text/plain body reach the image route; refuse them at parse.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(IMAGE_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  await app.register(multipart);

  app.addHook('onSend', async (_request, reply, payload) => {
    if (context.draining) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: one label value per route keeps the series bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: reply.statusCode });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(async (thrown, request, reply) => {
    const mapped = toHttpError(thrown);
    // Fastify's own 415 does not say what would have been accepted, nor its 413 the limit.
    const framework = !(thrown instanceof HttpError);
    const error =
      framework && mapped.code === 'unsupported-media-type'
        ? unsupportedType(request.headers['content-type'])
        : framework && mapped.code === 'body-too-large'
          ? bodyTooLarge(options.maxBodyBytes)
          : mapped;
    // The client sees a generic message for a bug; the operator gets the stack.
    if (error.status >= 500 && error.status !== 503) {
      const detail = error.code === 'internal' && thrown instanceof Error ? (thrown.stack ?? thrown.message) : error.message;
      options.log(`${request.method} ${request.url} [${request.id}]: ${error.status} ${detail}`);
    }
    metrics.errors.inc({ kind: error.code });
    return reply.code(error.status).headers(error.headers).send(errorBody(error));
  });
  app.setNotFoundHandler(async (request) => {
    throw new HttpError(404, 'not-found', `no route for ${request.method} ${request.url.split('?')[0]}`);
  });

  classifyRoute(app, context);
  batchRoute(app, context);
  probeRoutes(app, context);
  v2Routes(app, context, footwearVersion());
  v2InferRoutes(app, context);
  if (options.web) await webRoutes(app, options.web);
  return app;
}
