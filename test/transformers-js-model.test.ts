import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { HfExportError, LOGITS, PIXEL_VALUES, preprocessorConfig, writeHfFolder, wrapForTransformersJs } from '../bench/transformers-js/hf-folder.ts';
import { scoreRows } from '../bench/transformers-js/run.ts';
import { firstFiles, SHARED_MISSING, SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { defaultPreprocess, specFromModel, type ModelSpec } from '../src/core/index.ts';
import { prepareFile } from '../src/node/index.ts';

// The Hugging Face folder the transformers.js bench hands to its pipeline, checked without
// transformers.js: the labels it names, and that the rewired graph is the same model.

let work: string;
let modelDir: string;
let spec: ModelSpec;
let hfDir: string;

before(async () => {
  if (SHARED_MISSING) return;
  work = await mkdtemp(path.join(os.tmpdir(), 'footwear-hf-folder-'));
  modelDir = await trainedModel();
  spec = specFromModel(await readFile(path.join(modelDir, 'model.onnx')), 'model.onnx');
  hfDir = (await writeHfFolder(modelDir, path.join(work, 'hf'))).dir;
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const readJson = async (file: string) => JSON.parse(await readFile(path.join(hfDir, file), 'utf8')) as Record<string, unknown>;

function softmax(row: Float32Array): number[] {
  const max = Math.max(...row);
  const e = [...row].map((x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** NHWC [n, h, w, 3] -> NCHW [n, 3, h, w], as transformers.js lays out pixel_values. */
function toNchw(nhwc: Float32Array, n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(nhwc.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) out[((b * 3 + c) * h + y) * w + x] = nhwc[((b * h + y) * w + x) * 3 + c];
      }
    }
  }
  return out;
}

describe('Hugging Face model folder for transformers.js', { skip: SHARED_MISSING }, () => {
  test("config.json names the model's labels in its output order", async () => {
    const config = await readJson('config.json');
    const id2label = config.id2label as Record<string, string>;
    assert.deepEqual(
      spec.labels.map((_, i) => id2label[String(i)]),
      spec.labels,
    );
    assert.equal(Object.keys(id2label).length, spec.labels.length);
    assert.deepEqual(config.label2id, Object.fromEntries(spec.labels.map((l, i) => [l, i])));
    assert.equal(config.model_type, 'mobilenet_v2');
  });

  test("preprocessor_config.json resizes to the model's input size and maps pixels onto its range", async () => {
    const pre = await readJson('preprocessor_config.json');
    assert.deepEqual(pre.size, { height: spec.preprocess.height, width: spec.preprocess.width });
    assert.deepEqual(spec.preprocess.range, [0, 1]);
    // A [0, 1] model takes the processor's rescale as it is: no normalisation after it.
    assert.equal(pre.do_normalize, false);
    assert.equal(pre.rescale_factor, 1 / 255);
  });

  test('a [-1, 1] model gets the normalisation that maps 0..255 onto it', () => {
    const pre = preprocessorConfig({ ...spec, preprocess: defaultPreprocess({ range: [-1, 1] }) });
    assert.equal(pre.do_normalize, true);
    const [mean] = pre.image_mean as number[];
    const [std] = pre.image_std as number[];
    for (const p of [0, 64, 128, 255]) {
      const fed = (p * (pre.rescale_factor as number) - mean) / std;
      assert.ok(Math.abs(fed - (-1 + (2 * p) / 255)) < 1e-9, `pixel ${p} -> ${fed}`);
    }
  });

  test('the rewired graph takes NCHW pixel_values and gives logits whose softmax is the original probabilities', async () => {
    const { height: h, width: w } = spec.preprocess;
    // One real test photo per class, as one batch.
    const photos = (await firstFiles(path.join(SHOES, 'test'), 1)).map((p) => p.file);
    assert.equal(photos.length, 3);
    const nhwc = new Float32Array(photos.length * h * w * 3);
    for (const [i, file] of photos.entries()) {
      const prepared = await prepareFile(file, spec.preprocess);
      assert.ok('input' in prepared, `${file} should decode`);
      nhwc.set(prepared.input, i * h * w * 3);
    }
    const original = await ort.InferenceSession.create(path.join(modelDir, 'model.onnx'));
    const wrapped = await ort.InferenceSession.create(path.join(hfDir, 'onnx', 'model.onnx'));
    assert.deepEqual(wrapped.inputNames, [PIXEL_VALUES]);
    assert.deepEqual(wrapped.outputNames, [LOGITS]);
    const probabilities = (await original.run({ [spec.inputName]: new ort.Tensor('float32', nhwc, [photos.length, h, w, 3]) }))[spec.outputName].data as Float32Array;
    const logits = (await wrapped.run({ [PIXEL_VALUES]: new ort.Tensor('float32', toNchw(nhwc, photos.length, h, w), [photos.length, 3, h, w]) }))[LOGITS].data as Float32Array;
    const k = spec.labels.length;
    assert.equal(logits.length, photos.length * k);
    for (let i = 0; i < photos.length; i++) {
      const row = logits.slice(i * k, (i + 1) * k);
      // The Softmax is gone: these are scores, not already a distribution.
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) > 1e-3, `photo ${i}: logits ${[...row]} look like probabilities`);
      const ours = [...probabilities.slice(i * k, (i + 1) * k)];
      const theirs = softmax(row);
      for (let j = 0; j < k; j++) assert.ok(Math.abs(ours[j] - theirs[j]) <= 1e-5, `photo ${i}, ${spec.labels[j]}: ${ours[j]} vs ${theirs[j]}`);
      // Each photo sits in its class folder; the fixture model gets these right.
      assert.equal(spec.labels[theirs.indexOf(Math.max(...theirs))], path.basename(path.dirname(photos[i])));
    }
    await original.release();
    await wrapped.release();
  });

  test('a graph whose input is not NHWC is refused with a reason', async () => {
    const wrapped = await readFile(path.join(hfDir, 'onnx', 'model.onnx'));
    assert.throws(() => wrapForTransformersJs(wrapped, { ...spec, inputName: PIXEL_VALUES, outputName: LOGITS }, 'x.onnx'), (error: Error) => {
      assert.ok(error instanceof HfExportError);
      assert.match(error.message, /x\.onnx: input "pixel_values" should be \[N, H, W, 3\]/);
      return true;
    });
  });
});

test('rows are right when the label is the class folder, and the summary line is no photo', () => {
  const jsonl = [
    { file: '/d/Boot/a.jpg', label: 'Boot', score: 0.9 },
    { file: '/d/Shoe/b.jpg', label: 'Boot', score: 0.6 },
    { file: '/d/Sandal/c.jpg', error: 'unreadable' },
    { summary: { predicted: 2, failed: 1 } },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n');
  assert.deepEqual(scoreRows(jsonl), { photos: 3, right: 1 });
});
