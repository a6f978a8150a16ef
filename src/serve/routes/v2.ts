import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServeContext } from '../context.ts';
import { HttpError, notReady } from '../http-error.ts';

// The health and metadata routes of the Open Inference Protocol (KServe v2 REST), which Triton,
// KServe and their load balancers and probes already speak. Its errors are {"error": "..."}.

/** Answers `run()`'s value, or the protocol's error body with the status the /v1 routes would use. */
async function v2(reply: FastifyReply, run: () => unknown): Promise<unknown> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return reply.code(error.status).headers(error.headers).send({ error: error.message });
  }
}

export function v2Routes(app: FastifyInstance, context: ServeContext, version: string): void {
  const ready = () => {
    const why = context.whyNotServing();
    if (why) throw why;
  };
  const model = (name: string) => {
    const loaded = context.model;
    if (!loaded) throw notReady();
    if (name !== loaded.name) throw new HttpError(404, 'not-found', `no model named "${name}"; this server serves "${loaded.name}"`);
    return loaded;
  };

  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => v2(reply, () => (ready(), { ready: true })));
  app.get('/v2', async () => ({ name: 'footwear', version, extensions: ['classification', 'binary_tensor_data'] }));
  app.get<{ Params: { name: string } }>('/v2/models/:name', async (request, reply) =>
    v2(reply, () => {
      const { name, spec } = model(request.params.name);
      const { height, width } = spec.preprocess;
      return {
        name,
        versions: ['1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [-1, height, width, 3] }],
        outputs: [{ name: spec.outputName, datatype: 'FP32', shape: [-1, spec.labels.length] }],
        // tta: the views every image gets here, so a client comparing servers knows why their scores differ.
        parameters: { labels: spec.labels, preprocess: spec.preprocess, tta: context.options.tta },
      };
    }),
  );
  app.get<{ Params: { name: string } }>('/v2/models/:name/ready', async (request, reply) =>
    v2(reply, () => {
      model(request.params.name);
      ready();
      return { name: request.params.name, ready: true };
    }),
  );
}
