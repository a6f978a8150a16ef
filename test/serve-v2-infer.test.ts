import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { classificationStrings, decodeInferRequest, elementStrings, encodeInferRequest, parseClassification, tritonFixed, type ModelSpec } from '../src/core/index.ts';
import { loadModel, prepareFile, type Classifier } from '../src/node/index.ts';
import { startServer, type RunningServer } from '../src/serve/index.ts';
import { SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// POST /v2/models/{name}/infer on a real server (loopback, port 0) with the real trained model and
// real catalogue photos: tensors as JSON and as binary data, encoded images as BYTES, Triton's
// classification strings, every error status, and v2 images sharing ONNX Runtime batches with
// /v1 uploads. Binary requests are built by hand here, so the wire format is checked against the
// extension's text, not against footwear's own codec. Nothing here asserts on timing.

const MAX_BODY = 8 * 1024 * 1024;
const MAX_PIXELS = 20_000; // the catalogue photos are 136 x 102; a 200 x 200 image is too large
const HEADER = 'inference-header-content-length';

interface V2Output {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}
interface V2Response {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: V2Output[];
}
interface V1Body {
  label: string;
  score: number;
  topK: { label: string; score: number }[];
}

let modelDir = '';
let name = '';
let spec: ModelSpec;
let local: Classifier;
let photos: { label: string; file: string; bytes: Buffer }[] = [];
/** Each photo as the model's input, and local classifyBatch's probabilities for it. */
let inputs: Float32Array[] = [];
let expected: Float32Array[] = [];

before(async () => {
  modelDir = await trainedModel();
  name = path.basename(modelDir);
  local = await loadModel(modelDir, { ep: 'cpu' });
  spec = local.spec;
  const files = await firstFiles(path.join(SHOES, 'test'), 2);
  photos = await Promise.all(files.map(async (f) => ({ ...f, bytes: await readFile(f.file) })));
  inputs = await Promise.all(
    files.map(async ({ file }) => {
      const prepared = await prepareFile(file, spec.preprocess);
      if (!('input' in prepared)) throw new Error(`${file}: ${prepared.error.message}`);
      return prepared.input;
    }),
  );
  expected = (await local.classifyBatch(inputs)).map((p) => p.slice());
});

after(async () => {
  await local?.release();
});

/** JSON, then binary chunks, with the header the extension requires: built without footwear's codec. */
function binaryBody(json: object, chunks: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const head = Buffer.from(JSON.stringify(json));
  return { body: Buffer.concat([head, ...chunks]), headers: { 'content-type': 'application/octet-stream', [HEADER]: String(head.length) } };
}

function floatsLE(values: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], i * 4);
  return out;
}

function bytesElementsLE(elements: Buffer[]): Buffer {
  return Buffer.concat(elements.flatMap((e) => [Buffer.from(new Uint32Array([e.length]).buffer), e]));
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function post(server: RunningServer, body: Buffer | string | object, headers: Record<string, string> = {}, model = name): Promise<Response> {
  // fetch takes only ArrayBuffer-backed bytes, hence the copy of a Buffer.
  const payload = Buffer.isBuffer(body) ? new Uint8Array(body) : typeof body === 'string' ? body : JSON.stringify(body);
  return fetch(`${server.url}/v2/models/${model}/infer`, {
    method: 'POST',
    body: payload,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function postBinary(server: RunningServer, { body, headers }: { body: Buffer; headers: Record<string, string> }): Promise<Response> {
  return post(server, body, headers);
}

function assertClose(actual: ArrayLike<number>, wanted: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, wanted.length, `${what}: length`);
  for (let i = 0; i < wanted.length; i++) assert.ok(Math.abs(actual[i] - wanted[i]) <= 1e-6, `${what}[${i}]: ${actual[i]} vs ${wanted[i]}`);
}

async function errorOf(response: Response): Promise<string> {
  const body = (await response.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['error'], 'the protocol error body is {"error": "..."}');
  assert.equal(typeof body.error, 'string');
  return body.error as string;
}

async function metric(server: RunningServer, series: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

describe('serve: KServe v2 inference', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({ model: modelDir, port: 0, maxBodyBytes: MAX_BODY, maxPixels: MAX_PIXELS });
  });

  after(async () => {
    await server?.close();
  });

  test('a binary FP32 tensor gives local classifyBatch probabilities, as binary data after the JSON', async () => {
    const { height, width } = spec.preprocess;
    const { body, headers } = binaryBody(
      {
        id: 'batch-1',
        inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [inputs.length, height, width, 3], parameters: { binary_data_size: inputs.length * height * width * 12 } }],
        outputs: [{ name: spec.outputName, parameters: { binary_data: true } }],
      },
      [floatsLE(concat(inputs))],
    );
    const response = await post(server, body, headers);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    const raw = Buffer.from(await response.arrayBuffer());
    const jsonLength = Number(response.headers.get(HEADER));
    const json = JSON.parse(raw.subarray(0, jsonLength).toString()) as V2Response;
    assert.equal(json.model_name, name);
    assert.equal(json.id, 'batch-1');
    const classes = spec.labels.length;
    assert.deepEqual(json.outputs, [{ name: spec.outputName, datatype: 'FP32', shape: [inputs.length, classes], parameters: { binary_data_size: inputs.length * classes * 4 } }]);
    assert.equal(raw.length, jsonLength + inputs.length * classes * 4, 'the body is the JSON and the binary output, nothing else');
    const probs = Array.from({ length: inputs.length * classes }, (_, i) => raw.readFloatLE(jsonLength + i * 4));
    assertClose(probs, concat(expected), 'binary');
  });

  test('JSON tensors, flat and nested, give the same probabilities as JSON', async () => {
    const { height, width } = spec.preprocess;
    const pair = inputs.slice(0, 2);
    const flat = await post(server, { inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [2, height, width, 3], data: Array.from(concat(pair)) }] });
    assert.equal(flat.status, 200);
    assert.match(flat.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(flat.headers.get(HEADER), null, 'no binary data, no header');
    const flatBody = (await flat.json()) as V2Response;
    assert.deepEqual(flatBody.outputs.map((o) => [o.name, o.datatype, o.shape]), [[spec.outputName, 'FP32', [2, spec.labels.length]]]);
    assertClose(flatBody.outputs[0].data as number[], concat(expected.slice(0, 2)), 'flat JSON');

    // [1, H, W, 3] as nested arrays, the tensor's natural form.
    const image = inputs[3];
    const nested = [Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => Array.from(image.subarray((y * width + x) * 3, (y * width + x + 1) * 3))))];
    const response = await post(server, { inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [1, height, width, 3], data: nested }] });
    assert.equal(response.status, 200);
    assertClose(((await response.json()) as V2Response).outputs[0].data as number[], expected[3], 'nested JSON');
  });

  test('BYTES images, binary and base64 JSON, get /v1/classify labels and scores; classification strings as Triton writes them', async () => {
    const v1 = await Promise.all(
      photos.map(async (p) => {
        const response = await fetch(`${server.url}/v1/classify?top_k=3`, { method: 'POST', body: new Uint8Array(p.bytes), headers: { 'content-type': 'image/jpeg' } });
        assert.equal(response.status, 200);
        return (await response.json()) as V1Body;
      }),
    );
    const shape = [photos.length];
    // Binary BYTES, probabilities as JSON: the best class and its score are /v1's.
    const binary = binaryBody(
      { inputs: [{ name: spec.inputName, datatype: 'BYTES', shape, parameters: { binary_data_size: bytesElementsLE(photos.map((p) => p.bytes)).length } }] },
      [bytesElementsLE(photos.map((p) => p.bytes))],
    );
    const probsResponse = await post(server, binary.body, binary.headers);
    assert.equal(probsResponse.status, 200);
    const probs = ((await probsResponse.json()) as V2Response).outputs[0].data as number[];
    const classes = spec.labels.length;
    v1.forEach((answer, i) => {
      const row = probs.slice(i * classes, (i + 1) * classes);
      for (const { label, score } of answer.topK) assert.ok(Math.abs(row[spec.labels.indexOf(label)] - score) <= 1e-6, `${photos[i].file} ${label}`);
    });

    // base64 JSON BYTES with classification 2, shape [N, 1]: "score:index:label" strings, best first.
    const response = await post(server, {
      inputs: [{ name: spec.inputName, datatype: 'BYTES', shape: [photos.length, 1], data: photos.map((p) => p.bytes.toString('base64')) }],
      outputs: [{ name: spec.outputName, parameters: { classification: 2 } }],
    });
    assert.equal(response.status, 200);
    const [output] = ((await response.json()) as V2Response).outputs;
    assert.equal(output.datatype, 'BYTES');
    assert.deepEqual(output.shape, [photos.length, 2]);
    const strings = output.data as string[];
    v1.forEach((answer, i) => {
      for (let k = 0; k < 2; k++) {
        const match = /^(\d+\.\d{9}):(\d+):(.+)$/.exec(strings[i * 2 + k]);
        assert.ok(match, `"${strings[i * 2 + k]}" is value:index:label with 9 decimals`);
        const [, value, index, label] = match;
        assert.equal(label, answer.topK[k].label, 'the same order as /v1');
        assert.equal(spec.labels[Number(index)], label);
        assert.ok(Math.abs(Number(value) - answer.topK[k].score) <= 5e-10 + 1e-6, `${value} vs ${answer.topK[k].score}`);
      }
    });
  });

  test('classification beyond the class count is clamped; as binary data it holds the same strings', async () => {
    const { height, width } = spec.preprocess;
    const request = (binary: boolean) => ({
      inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [1, height, width, 3], data: Array.from(inputs[0]) }],
      outputs: [{ name: spec.outputName, parameters: { classification: 10, binary_data: binary } }],
    });
    const json = (await (await post(server, request(false))).json()) as V2Response;
    assert.deepEqual(json.outputs[0].shape, [1, spec.labels.length]);
    const response = await post(server, request(true));
    const raw = Buffer.from(await response.arrayBuffer());
    const length = Number(response.headers.get(HEADER));
    const head = JSON.parse(raw.subarray(0, length).toString()) as V2Response;
    assert.equal(head.outputs[0].datatype, 'BYTES');
    const strings: string[] = [];
    for (let at = length; at < raw.length; ) {
      const n = raw.readUInt32LE(at);
      strings.push(raw.subarray(at + 4, at + 4 + n).toString());
      at += 4 + n;
    }
    assert.deepEqual(strings, json.outputs[0].data);
  });

  test('every bad request is answered with its status and {"error": "..."}, and the server goes on', async () => {
    const { height, width } = spec.preprocess;
    const one = Array.from(inputs[0]);
    const tensor = (extra: object = {}) => ({ inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [1, height, width, 3], data: one, ...extra }] });
    const big = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#fff' } }).png().toBuffer();
    const nan = floatsLE(inputs[0]);
    nan.writeFloatLE(Number.NaN, 40);
    const binaryTensor = (bytes: Buffer, size = bytes.length) =>
      binaryBody({ inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [1, height, width, 3], parameters: { binary_data_size: size } }] }, [bytes]);
    const cases: { what: string; send: () => Promise<Response>; status: number; error: RegExp }[] = [
      { what: 'unknown model', send: () => post(server, tensor(), {}, 'nope'), status: 404, error: /no model named "nope"/ },
      { what: 'unknown version', send: () => fetch(`${server.url}/v2/models/${name}/versions/7/infer`, { method: 'POST', body: JSON.stringify(tensor()) }), status: 404, error: /no version "7"/ },
      { what: 'empty body', send: () => post(server, ''), status: 400, error: /body is empty/ },
      { what: 'not JSON', send: () => post(server, '{"inputs": ['), status: 400, error: /not valid JSON/ },
      { what: 'no inputs', send: () => post(server, { outputs: [] }), status: 400, error: /should have "inputs"/ },
      { what: 'wrong input name', send: () => post(server, { inputs: [{ ...tensor().inputs[0], name: 'pixels' }] }), status: 400, error: /no input named "pixels"/ },
      { what: 'wrong shape', send: () => post(server, { inputs: [{ ...tensor().inputs[0], shape: [1, 3, height, width] }] }), status: 400, error: /should have shape \[N, 224, 224, 3\]/ },
      { what: 'too few values', send: () => post(server, { inputs: [{ ...tensor().inputs[0], data: one.slice(1) }] }), status: 400, error: /holds 150527 elements; its shape needs 150528/ },
      { what: 'another datatype', send: () => post(server, { inputs: [{ ...tensor().inputs[0], datatype: 'INT32' }] }), status: 400, error: /datatype "INT32"; footwear reads FP32 and BYTES/ },
      { what: 'strings in an FP32 tensor', send: () => post(server, { inputs: [{ ...tensor().inputs[0], data: ['a', ...one.slice(1)] }] }), status: 400, error: /should hold numbers; element 0 is "a"/ },
      { what: 'binary size not the shape', send: () => postBinary(server, binaryTensor(nan.subarray(4))), status: 400, error: /should be 602112 bytes, got 602108/ },
      { what: 'bytes after the tensors', send: () => postBinary(server, binaryTensor(Buffer.concat([nan, Buffer.alloc(8)]), nan.length)), status: 400, error: /8 bytes after the JSON/ },
      { what: 'header longer than the body', send: () => post(server, JSON.stringify(tensor()), { [HEADER]: '99999999' }), status: 400, error: /Inference-Header-Content-Length should be/ },
      { what: 'binary data without the header', send: () => post(server, JSON.stringify({ inputs: [{ ...tensor().inputs[0], data: undefined, parameters: { binary_data_size: 4 } }] })), status: 400, error: /no Inference-Header-Content-Length/ },
      { what: 'a NaN in the tensor', send: () => postBinary(server, binaryTensor(nan)), status: 400, error: /holds NaN at element 10/ },
      { what: 'unknown output', send: () => post(server, { ...tensor(), outputs: [{ name: 'logits' }] }), status: 400, error: /no output named "logits"/ },
      { what: 'an output twice', send: () => post(server, { ...tensor(), outputs: [{ name: spec.outputName }, { name: spec.outputName }] }), status: 400, error: /requested twice/ },
      { what: 'classification 0', send: () => post(server, { ...tensor(), outputs: [{ name: spec.outputName, parameters: { classification: 0 } }] }), status: 400, error: /classification should be a positive integer/ },
      { what: 'binary_data not a boolean', send: () => post(server, { ...tensor(), parameters: { binary_data_output: 'yes' } }), status: 400, error: /binary_data_output should be true or false/ },
      { what: 'BYTES not base64', send: () => post(server, { inputs: [{ name: spec.inputName, datatype: 'BYTES', shape: [1], data: ['not base64!'] }] }), status: 400, error: /image 0 is not base64/ },
      { what: 'BYTES of another shape', send: () => post(server, { inputs: [{ name: spec.inputName, datatype: 'BYTES', shape: [1, 2], data: ['', ''] }] }), status: 400, error: /shape \[N\] or \[N, 1\]/ },
      {
        what: 'an image that is not one',
        send: () => post(server, { inputs: [{ name: spec.inputName, datatype: 'BYTES', shape: [2], data: [photos[0].bytes.toString('base64'), Buffer.from('not an image at all').toString('base64')] }] }),
        status: 400,
        error: /^image 1: /,
      },
      { what: 'an image over max-pixels (as /v1: 422)', send: () => post(server, { inputs: [{ name: spec.inputName, datatype: 'BYTES', shape: [1], data: [big.toString('base64')] }] }), status: 422, error: /^image 0: .*pixel/ },
      {
        what: 'a body over max-body-bytes',
        send: () => postBinary(server, binaryTensor(Buffer.alloc(15 * height * width * 12))),
        status: 413,
        error: /larger than the 8388608-byte limit .*binary data/,
      },
      {
        what: 'more images than the queue holds',
        send: () => post(server, { inputs: [{ name: spec.inputName, datatype: 'BYTES', shape: [33], data: Array.from({ length: 33 }, () => photos[0].bytes.toString('base64')) }] }),
        status: 413,
        error: /at most 32 images .*got 33/,
      },
    ];
    for (const { what, send, status, error } of cases) {
      const response = await send();
      assert.equal(response.status, status, what);
      assert.match(await errorOf(response), error, what);
    }
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200, 'bad requests never take the server down');
    assert.ok((await metric(server, 'footwear_errors_total{kind="bad-request"}')) >= 15, 'errors are counted');
    const good = await post(server, tensor());
    assert.equal(good.status, 200);
    assertClose(((await good.json()) as V2Response).outputs[0].data as number[], expected[0], 'after the errors');
  });
});

describe('serve: KServe v2 inference under load and startup', () => {
  test('a v2 tensor and /v1 uploads fill the same ONNX Runtime batch', async () => {
    // A batch leaves only when full (the delay is far longer than the test), so 8 v2 images and
    // 8 /v1 uploads can only have been answered from one batch of 16 that mixes them.
    const server = await startServer({ model: modelDir, port: 0, maxBatch: 16, maxDelayMs: 120_000 });
    try {
      const [count0, sum0] = [await metric(server, 'footwear_batch_size_count'), await metric(server, 'footwear_batch_size_sum')];
      const { height, width } = spec.preprocess;
      const eight = [...inputs, ...inputs].slice(0, 8);
      const request = encodeInferRequest({ inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [8, height, width, 3], data: concat(eight) }] }, () => true);
      const v2 = post(server, Buffer.concat(request.parts), { [HEADER]: String(request.headerLength) });
      const v1 = Array.from({ length: 8 }, (_, i) =>
        fetch(`${server.url}/v1/classify`, { method: 'POST', body: new Uint8Array(photos[i % photos.length].bytes), headers: { 'content-type': 'image/jpeg' } }),
      );
      const answers = await Promise.all([v2, ...v1]);
      assert.deepEqual(
        answers.map((r) => r.status),
        answers.map(() => 200),
      );
      const v2Body = (await answers[0].json()) as V2Response;
      assertClose(v2Body.outputs[0].data as number[], concat([...expected, ...expected].slice(0, 8)), 'the shared batch');
      assert.equal((await metric(server, 'footwear_batch_size_count')) - count0, 1, 'one ONNX Runtime run');
      assert.equal((await metric(server, 'footwear_batch_size_sum')) - sum0, 16, 'of all 16 images');
    } finally {
      await server.close();
    }
  });

  test('a request that does not fit the queue whole is refused with 429 and Retry-After', async () => {
    const server = await startServer({ model: modelDir, port: 0, maxBatch: 4, maxQueue: 4, maxDelayMs: 120_000 });
    try {
      const { height, width } = spec.preprocess;
      const tensorOf = (n: number) => {
        const request = encodeInferRequest({ inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [n, height, width, 3], data: concat(inputs.slice(0, n)) }] }, () => true);
        return post(server, Buffer.concat(request.parts), { [HEADER]: String(request.headerLength) });
      };
      // Three images wait for a fourth (batches leave full); poll, bounded, until they hold their places.
      const three = tensorOf(3);
      let depth = 0;
      for (let i = 0; i < 1000 && depth < 3; i++) {
        depth = await metric(server, 'footwear_queue_depth');
        if (depth < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(depth, 3);
      const refused = await tensorOf(2);
      assert.equal(refused.status, 429, 'two more do not fit in the one place left');
      assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      assert.match(await errorOf(refused), /at capacity/);
      const fourth = await tensorOf(1);
      assert.equal(fourth.status, 200, 'one more fits, and fills the batch');
      assert.equal((await three).status, 200);
    } finally {
      await server.close();
    }
  });

  test('while the model loads, inference is 503 with Retry-After', async () => {
    let early: Promise<Response> | undefined;
    const server = await startServer({
      model: modelDir,
      port: 0,
      onListening: (url) => {
        early = fetch(`${url}/v2/models/${name}/infer`, { method: 'POST', body: '{}' });
      },
    });
    try {
      const response = (await early) as Response;
      assert.equal(response.status, 503);
      assert.ok(response.headers.get('retry-after'));
      assert.match(await errorOf(response), /still loading/);
    } finally {
      await server.close();
    }
  });
});

describe('v2 codec details', () => {
  test('classification values are printed as Triton prints them: 9 decimals, exact ties to even', () => {
    assert.equal(tritonFixed(0.5), '0.500000000');
    assert.equal(tritonFixed(1 / 1024), '0.000976562', '0.0009765625 is a tie; printf keeps the even 2');
    assert.equal(tritonFixed(3 / 1024), '0.002929688', '0.0029296875 is a tie; printf rounds the odd 7 up');
    assert.equal(tritonFixed(Math.fround(0.1234567891)), Math.fround(0.1234567891).toFixed(9));
    assert.deepEqual(classificationStrings(Float32Array.from([0.25, 0.5, 0.25]), 3, 3, ['a', 'b:c', 'd']), ['0.500000000:1:b:c', '0.250000000:0:a', '0.250000000:2:d']);
    assert.deepEqual(parseClassification('0.500000000:1:b:c'), { score: 0.5, index: 1, label: 'b:c' });
    assert.deepEqual(parseClassification('0.5:1'), { score: 0.5, index: 1 });
    assert.equal(parseClassification('Boot'), undefined);
  });

  test('a request survives encoding and decoding, JSON or binary, with aligned or unaligned binary data', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i / 7);
    for (const binary of [true, false]) {
      for (const id of ['a', 'ab', 'abc', 'abcd']) {
        const encoded = encodeInferRequest({ id, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2, 2, 3], data }, { name: 'y', datatype: 'BYTES', shape: [2], data: ['é', ''] }] }, () => binary);
        const body = Buffer.concat(encoded.parts);
        assert.equal(body.length, encoded.byteLength);
        const decoded = decodeInferRequest(body, encoded.headerLength);
        assert.equal(decoded.id, id);
        assert.deepEqual(Array.from(decoded.inputs[0].data as Float32Array), Array.from(data));
        assert.deepEqual(elementStrings(decoded.inputs[1].data), ['é', '']);
        assert.equal(decoded.inputs[0].parameters, undefined, 'binary_data_size is the wire format, not a parameter');
      }
    }
  });
});
