import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultFeatureLayers, loadBaseModel, loadTf, MOBILENET_FEATURES } from '../src/backbone/index.ts';

test('the bundled MobileNetV2 loads offline with its measured feature layers', async () => {
  const { tf } = await loadTf();
  const base = await loadBaseModel(tf, 'mobilenet');
  assert.deepEqual(base.inputs[0].shape, [null, 224, 224, 3]);
  assert.deepEqual(defaultFeatureLayers(base, 'mobilenet'), MOBILENET_FEATURES.layers);
  for (const name of MOBILENET_FEATURES.layers) assert.equal(base.getLayer(name).outputShape.length, 4);
});

const { backend } = await loadTf();

test('transposed products on the wasm backend equal the plain products, gradients included', { skip: backend !== 'wasm' && `TF.js runs on ${backend} here` }, async () => {
  const { tf } = await loadTf();
  const a = tf.randomNormal([2, 37, 19], 0, 1, 'float32', 1);
  const b = tf.randomNormal([2, 37, 23], 0, 1, 'float32', 2);
  const viaFlag = tf.matMul(a, b, true, false);
  const explicit = tf.matMul(tf.transpose(a, [0, 2, 1]), b);
  assert.ok(tf.max(tf.abs(tf.sub(viaFlag, explicit))).dataSync()[0] < 1e-4);
  const w = tf.variable(tf.randomNormal([19, 5], 0, 1, 'float32', 3));
  const x = tf.randomNormal([8, 19], 0, 1, 'float32', 4);
  const { grads } = tf.variableGrads(() => tf.matMul(x, w).square().sum() as never, [w]);
  const expected = tf.matMul(tf.transpose(x), tf.mul(2, tf.matMul(x, w)));
  assert.ok(tf.max(tf.abs(tf.sub(grads[w.name], expected))).dataSync()[0] < 1e-3);
});
