import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import onnxProto from 'onnx-proto';
import { ModelError, SPEC_METADATA_KEY, type ModelSpec } from '../src/core/index.ts';
import { loadModel } from '../src/node/index.ts';
import { startServer } from '../src/serve/index.ts';
import { defaultTrainOptions, train } from '../src/train/index.ts';
import { buildWebSite } from '../src/web/index.ts';
import { SHARED_MISSING, SHOES, subsetDataset } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// A folder trained again keeps no quantised copy of the model it replaced, and a derived model
// whose model.onnx has changed since is refused by everything that would run or ship it.

const { onnx } = onnxProto;

/** `bytes` with its spec replaced by `edit(spec)`: a model made from another training run. */
function withSpec(bytes: Uint8Array, edit: (spec: ModelSpec) => ModelSpec): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const entry = model.metadataProps.find((p) => p.key === SPEC_METADATA_KEY);
  if (!entry) throw new Error('fixture model has no spec');
  entry.value = JSON.stringify(edit(JSON.parse(entry.value ?? '{}') as ModelSpec));
  return onnx.ModelProto.encode(model).finish();
}

describe('models derived from an earlier training', { skip: SHARED_MISSING }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'footwear-derived-'));
    const source = await trainedModel();
    await copyFile(path.join(source, 'model.onnx'), path.join(dir, 'model.onnx'));
    const bytes = await readFile(path.join(dir, 'model.onnx'));
    // As if model.int8.onnx had been made from a 3-class model trained last week, and the folder
    // had since been retrained with two classes.
    await writeFile(path.join(dir, 'model.int8.onnx'), withSpec(bytes, (s) => ({ ...s, createdAt: '2026-11-01T00:00:00.000Z' })));
    await writeFile(path.join(dir, 'model.fp16.onnx'), withSpec(bytes, (s) => ({ ...s, labels: [...s.labels, 'Slipper'] })));
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('predict and eval (loadModel) refuse them, naming both files and what differs', async () => {
    await assert.rejects(loadModel(path.join(dir, 'model.int8.onnx'), { ep: 'cpu' }), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.match(error.message, /model\.int8\.onnx: was made from another model than the model\.onnx beside it \(trained 2026-11-01T00:00:00\.000Z vs .+\); make it again with footwear convert --quantize, or delete it$/);
      return true;
    });
    await assert.rejects(loadModel(path.join(dir, 'model.fp16.onnx'), { ep: 'cpu' }), /labels Boot, Sandal, Shoe, Slipper vs Boot, Sandal, Shoe/);
    // The model itself, and a derived file copied somewhere on its own, still load.
    await (await loadModel(dir, { ep: 'cpu' })).release();
    const alone = await mkdtemp(path.join(os.tmpdir(), 'footwear-alone-'));
    await copyFile(path.join(dir, 'model.int8.onnx'), path.join(alone, 'model.int8.onnx'));
    await (await loadModel(path.join(alone, 'model.int8.onnx'), { ep: 'cpu' })).release();
    await rm(alone, { recursive: true, force: true });
  });

  test('serve refuses to start on one', async () => {
    await assert.rejects(startServer({ model: path.join(dir, 'model.int8.onnx'), port: 0 }), { name: 'ModelError', message: /made from another model/ });
  });

  test('web build refuses to ship one', async () => {
    await assert.rejects(buildWebSite({ model: dir, out: path.join(dir, 'site') }), { name: 'ModelError', message: /model\.int8\.onnx: was made from another model/ });
    assert.equal(existsSync(path.join(dir, 'site')), false);
  });

  test('training into the folder again removes them once the new model.onnx is written', async () => {
    const data = await subsetDataset(path.join(SHOES, 'train'), 6, 'shoes-train');
    const lines: string[] = [];
    await train({ ...defaultTrainOptions(data, dir), epochs: 2 }, { log: (line) => lines.push(line) });
    assert.equal(existsSync(path.join(dir, 'model.onnx')), true);
    assert.equal(existsSync(path.join(dir, 'model.int8.onnx')), false);
    assert.equal(existsSync(path.join(dir, 'model.fp16.onnx')), false);
    assert.equal(lines.filter((l) => /^removed .*model\.(int8|fp16)\.onnx: it was made from the model this run replaced/.test(l)).length, 2);
  });
});
