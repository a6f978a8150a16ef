import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readModelFile, resolveModelFile } from '../src/node/index.ts';
import { specFromModel, type ModelSpec } from '../src/core/index.ts';
import { startServer, type RunningServer } from '../src/serve/index.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// The Open Inference Protocol's health and metadata routes (KServe v2 REST), as Triton's and
// KServe's probes and clients call them.

describe('serve: KServe v2 health and metadata', () => {
  let server: RunningServer;
  let spec: ModelSpec;
  let name: string;

  before(async () => {
    const model = await trainedModel();
    const file = await resolveModelFile(model);
    spec = specFromModel(await readModelFile(file), file);
    name = path.basename(model);
    server = await startServer({ model, port: 0 });
  });

  after(async () => {
    await server?.close();
  });

  const get = async (route: string) => {
    const response = await fetch(`${server.url}${route}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test('live, ready, server and model readiness', async () => {
    assert.deepEqual(await get('/v2/health/live'), { status: 200, body: { live: true } });
    assert.deepEqual(await get('/v2/health/ready'), { status: 200, body: { ready: true } });
    assert.deepEqual(await get(`/v2/models/${name}/ready`), { status: 200, body: { name, ready: true } });
    const server = await get('/v2');
    assert.equal(server.status, 200);
    assert.equal(server.body.name, 'footwear');
  });

  test('model metadata describes the ONNX input and output the model really has', async () => {
    const { status, body } = await get(`/v2/models/${name}`);
    assert.equal(status, 200);
    const { height, width } = spec.preprocess;
    assert.deepEqual(body.inputs, [{ name: spec.inputName, datatype: 'FP32', shape: [-1, height, width, 3] }]);
    assert.deepEqual(body.outputs, [{ name: spec.outputName, datatype: 'FP32', shape: [-1, spec.labels.length] }]);
    assert.deepEqual((body.parameters as { labels: string[] }).labels, spec.labels);
  });

  test('an unknown model is 404 with the protocol\'s {"error": "..."} body', async () => {
    for (const route of ['/v2/models/nope', '/v2/models/nope/ready']) {
      const { status, body } = await get(route);
      assert.equal(status, 404, route);
      assert.deepEqual(Object.keys(body), ['error']);
      assert.match(body.error as string, /no model named "nope"/);
    }
  });
});
