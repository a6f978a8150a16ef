import type { FastifyInstance } from 'fastify';
import { DEFAULT_TOP_K } from '../../core/index.ts';
import type { ServeContext } from '../context.ts';
import { imageFailure } from '../http-error.ts';
import { unsupportedType } from '../media.ts';

export function classifyRoute(app: FastifyInstance, context: ServeContext): void {
  app.post<{ Querystring: { top_k?: string } }>('/v1/classify', async (request, reply) => {
    const model = context.serving();
    // Only the image parser yields a Buffer; any other type was refused before reaching here,
    // except a body-less request with no Content-Type at all.
    if (!Buffer.isBuffer(request.body)) throw unsupportedType(request.headers['content-type']);
    const k = model.pipeline.topK(request.query.top_k, DEFAULT_TOP_K);
    const result = await model.pipeline.classify(request.body, 'upload', k);
    if ('error' in result) throw imageFailure(result.error.code, result.error.message);
    return { label: result.label, score: result.score, topK: result.topK, model: model.name, ms: Math.round(reply.elapsedTime * 100) / 100 };
  });
}
