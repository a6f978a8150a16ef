import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../context.ts';
import { notReady } from '../http-error.ts';

// Liveness, readiness, metrics and model description: the routes an orchestrator and an
// operator poll. None of them touches the inference queue.

export function probeRoutes(app: FastifyInstance, context: ServeContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async () => {
    const why = context.whyNotServing();
    if (why) throw why;
    return { status: 'ready' };
  });

  app.get('/metrics', async (_request, reply) => {
    const { registry } = context.metrics;
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });

  app.get('/v1/model', async () => {
    // Still answered while draining: describing the model costs nothing and queues nothing.
    const model = context.model;
    if (!model) throw notReady();
    const { spec } = model;
    return {
      model: model.name,
      labels: spec.labels,
      input: { name: spec.inputName, ...spec.preprocess },
      output: { name: spec.outputName },
      executionProvider: model.executionProvider,
      workers: model.liveWorkers(),
      tta: context.options.tta,
      ...(spec.backbone && { backbone: spec.backbone }),
      ...(spec.createdAt && { createdAt: spec.createdAt }),
    };
  });
}
