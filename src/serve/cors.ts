import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServeConfigError } from './config-error.ts';
import { HttpError } from './http-error.ts';
import { REQUEST_ID_HEADER } from './request-id.ts';

// CORS for web pages on other origins that call the API. Only origins on the allow-list get
// Access-Control-Allow-Origin, and nothing is allowed by default: a page elsewhere cannot read
// answers unless the operator names its origin. Preflights are answered here, before auth, as
// browsers send them without credentials.

const ALLOW_METHODS = 'GET, POST, OPTIONS';
const ALLOW_HEADERS = `Authorization, Content-Type, ${REQUEST_ID_HEADER}`;
const EXPOSE_HEADERS = `${REQUEST_ID_HEADER}, Retry-After, WWW-Authenticate`;
/** How long a browser may reuse a preflight's answer, s. */
const MAX_AGE_S = 600;

/** Checks each origin is one: scheme://host[:port], as browsers send it (no path, no trailing slash). */
export function parseOrigins(origins: readonly string[], flag = '--cors-origin'): string[] {
  return origins.map((origin) => {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== origin) {
      const hint = url && url.origin !== 'null' ? ` (did you mean ${url.origin}?)` : '';
      throw new ServeConfigError(`${flag} should be an origin like https://shop.example.com (scheme://host[:port], no path or trailing slash), got "${origin}"${hint}`);
    }
    return origin;
  });
}

const isPreflight = (request: FastifyRequest) => request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;

export function corsHook(app: FastifyInstance, origins: readonly string[]): void {
  const allowed = new Set(origins);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // Answers differ by Origin, so caches must key on it.
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (typeof origin !== 'string' || !allowed.has(origin)) {
      if (isPreflight(request)) throw new HttpError(403, 'origin-not-allowed', `origin ${String(origin)} may not call this server from a browser (see --cors-origin)`);
      return;
    }
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-expose-headers', EXPOSE_HEADERS);
    if (!isPreflight(request)) return;
    reply.header('access-control-allow-methods', ALLOW_METHODS);
    reply.header('access-control-allow-headers', ALLOW_HEADERS);
    reply.header('access-control-max-age', String(MAX_AGE_S));
    await reply.code(204).send();
    return reply;
  });
}
