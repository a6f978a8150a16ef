import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HEADER_LENGTH, V2ProtocolError, decodeInferRequest, encodeInferResponse } from '../../core/index.ts';
import type { ServeContext } from '../context.ts';
import { HttpError, imageFailure, toHttpError } from '../http-error.ts';
import { outputTensors, planInference } from '../v2-plan.ts';

// POST /v2/models/{name}/infer, the Open Inference Protocol's inference (KServe v2 REST), with
// Triton's binary tensor data and classification extensions. Its images take seats in the same
// batches as /v1's, and it answers with /v1's statuses and limits in the protocol's error body.

/** The one version metadata lists; inference answers name it, as Triton's do. */
const MODEL_VERSION = '1';

type InferRequestShape = { Params: { name: string; version?: string } };

export function v2InferRoutes(app: FastifyInstance, context: ServeContext): void {
  const { options, metrics } = context;

  const infer = async (request: FastifyRequest<InferRequestShape>, reply: FastifyReply) => {
    const model = context.serving();
    const { name, version } = request.params;
    if (name !== model.name) throw new HttpError(404, 'not-found', `no model named "${name}"; this server serves "${model.name}"`);
    if (version !== undefined && version !== MODEL_VERSION) throw new HttpError(404, 'not-found', `model "${name}" has no version "${version}"; it has version ${MODEL_VERSION}`);
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new HttpError(400, 'bad-request', 'the body is empty: send an inference request as JSON, or as JSON followed by binary tensor data with an Inference-Header-Content-Length header');
    }
    let decoded;
    try {
      decoded = decodeInferRequest(body, request.headers[HEADER_LENGTH]);
    } catch (error) {
      throw error instanceof V2ProtocolError ? new HttpError(400, 'bad-request', error.message) : error;
    }
    const plan = planInference(decoded, model.spec);
    const { input } = plan;
    const scores = input.kind === 'tensor' ? await model.pipeline.scoreTensor(input.data, input.count) : await model.pipeline.scoreImages(input.images);
    if ('error' in scores) throw imageFailure(scores.error.code, `${scores.file}: ${scores.error.message}`);
    const binary = new Set(plan.outputs.filter((o) => o.binary).map((o) => o.name));
    const encoded = encodeInferResponse(
      { model_name: model.name, model_version: MODEL_VERSION, ...(decoded.id !== undefined && { id: decoded.id }), outputs: outputTensors(plan, scores, model.spec) },
      (output) => binary.has(output.name),
    );
    if (encoded.headerLength === undefined) reply.type('application/json');
    else reply.type('application/octet-stream').header(HEADER_LENGTH, encoded.headerLength);
    return reply.send(Buffer.concat(encoded.parts));
  };

  // An encapsulated scope, so that what it sets applies to these routes only and /v1 keeps its own.
  void app.register(async (scope) => {
    // Any content type is read as bytes: the Inference-Header-Content-Length header, not the type,
    // says whether binary data follows the JSON (as in Triton, whose clients send binary requests
    // as application/octet-stream or with no type at all).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    // The protocol's {"error": "..."}, for errors raised while the body is read (413) as well.
    scope.setErrorHandler(async (thrown, request, reply) => {
      let error = toHttpError(thrown);
      if (error.code === 'body-too-large') {
        error = new HttpError(
          413,
          'body-too-large',
          `the body is larger than the ${options.maxBodyBytes}-byte limit (--max-body-bytes); send tensors as binary data (their JSON takes 2 to 4 times the bytes) or fewer images per request`,
        );
      }
      if (error.status >= 500 && error.status !== 503) {
        const detail = error.code === 'internal' && thrown instanceof Error ? (thrown.stack ?? thrown.message) : error.message;
        options.log(`${request.method} ${request.url}: ${error.status} ${detail}`);
      }
      metrics.errors.inc({ kind: error.code });
      return reply.code(error.status).headers(error.headers).send({ error: error.message });
    });
    scope.post<InferRequestShape>('/v2/models/:name/infer', infer);
    scope.post<InferRequestShape>('/v2/models/:name/versions/:version/infer', infer);
  });
}
