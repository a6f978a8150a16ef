import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../src/backbone/tf.ts';
import { loadBaseModel, truncate } from '../src/backbone/mobilenet.ts';
import { exportLayersModel, supportedLayers, UnsupportedLayerError, verifyAgainstTfjs } from '../src/convert/index.ts';
import { assertParity, decode, getTf, graphPorts, intsAttribute, opCounts, ort, randomValues, randomizeWeights, stack } from './helpers-convert.ts';

let tf: Tf;
before(async () => {
  tf = await getTf();
});

/** A model from `shape` through `layers`, with every weight randomised. */
function chainModel(shape: number[], ...layers: tfjs.layers.Layer[]): tfjs.LayersModel {
  const input = tf.input({ shape });
  const model = tf.model({ inputs: input, outputs: stack(input, ...layers) });
  randomizeWeights(tf, model);
  return model;
}

describe('convolution, batch norm and the NHWC/NCHW boundary', () => {
  test('conv stack with softmax head: BN folded, one transpose, batch 1 and 3 from one file', async () => {
    const model = chainModel(
      [8, 8, 3],
      tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
      tf.layers.batchNormalization({ epsilon: 1e-3 }),
      tf.layers.reLU({ maxValue: 6 }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }),
      tf.layers.batchNormalization({}),
      tf.layers.reLU({}),
      tf.layers.conv2d({ filters: 5, kernelSize: 1, activation: 'relu' }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 4, activation: 'softmax' }),
    );
    const bytes = await assertParity(tf, model, { batches: [1, 3] });
    const ops = opCounts(bytes);
    assert.equal(ops.BatchNormalization, undefined);
    assert.equal(ops.Mul, undefined, 'both BatchNorms should be folded into their convs');
    assert.equal(ops.Add, undefined);
    assert.equal(ops.Transpose, 1, 'only the NHWC input should be transposed');
    assert.equal(ops.Conv, 3);
  });

  test('odd and even sizes with "same" padding and stride 2 get TF\'s asymmetric pads', async () => {
    for (const [size, expectedPads] of [
      [7, [1, 1, 1, 1]],
      [8, [0, 0, 1, 1]],
    ] as const) {
      const model = chainModel([size, size + 2, 2], tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }));
      const bytes = await assertParity(tf, model);
      // [top, left, bottom, right]; the width is size + 2 and splits the same way as the height.
      assert.deepEqual(intsAttribute(bytes, 'Conv', 'pads'), expectedPads);
    }
  });

  test('even kernels, dilation and rectangular strides with "same" padding', async () => {
    const model = chainModel(
      [9, 10, 3],
      tf.layers.conv2d({ filters: 4, kernelSize: [4, 2], padding: 'same' }),
      tf.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same' }),
      tf.layers.conv2d({ filters: 2, kernelSize: [3, 2], strides: [2, 3], padding: 'same', activation: 'tanh' }),
    );
    const bytes = await assertParity(tf, model);
    assert.deepEqual(intsAttribute(bytes, 'Conv', 'pads', 0), [1, 0, 2, 1]);
  });

  test('a 4D output comes back NHWC, so one transpose in and one out', async () => {
    const model = chainModel([6, 5, 3], tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'valid', activation: 'relu6' }));
    const bytes = await assertParity(tf, model);
    assert.equal(opCounts(bytes).Transpose, 2);
    assert.deepEqual(graphPorts(bytes).outputs, [{ name: 'output', dims: ['N', 4, 3, 4] }]);
  });

  test('DepthwiseConv2D with depth multiplier 2, bias and activation', async () => {
    const model = chainModel([7, 7, 3], tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', activation: 'relu' }));
    await assertParity(tf, model);
  });

  test('SeparableConv2D', async () => {
    const model = chainModel([8, 8, 3], tf.layers.separableConv2d({ filters: 5, kernelSize: 3, depthMultiplier: 2, padding: 'same' }));
    await assertParity(tf, model);
  });

  test('ZeroPadding2D is absorbed into the following conv', async () => {
    const model = chainModel(
      [7, 7, 3],
      tf.layers.zeroPadding2d({ padding: [[0, 1], [2, 1]] }),
      tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }),
      tf.layers.batchNormalization({}),
    );
    const bytes = await assertParity(tf, model);
    const ops = opCounts(bytes);
    assert.equal(ops.Pad, undefined);
    assert.deepEqual(intsAttribute(bytes, 'Conv', 'pads'), [0, 2, 1, 1]);
  });

  test('ZeroPadding2D before pooling stays a Pad, in the layout it finds', async () => {
    const model = chainModel([6, 6, 2], tf.layers.zeroPadding2d({ padding: 1 }), tf.layers.maxPooling2d({ poolSize: 2 }));
    const bytes = await assertParity(tf, model);
    assert.equal(opCounts(bytes).Pad, 1);
  });
});

describe('BatchNormalization emitted standalone', () => {
  test('after a conv with an activation, and with center/scale off', async () => {
    const model = chainModel(
      [6, 6, 3],
      tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.batchNormalization({ center: false }),
      tf.layers.batchNormalization({ scale: false, epsilon: 0.01 }),
    );
    const bytes = await assertParity(tf, model);
    assert.equal(opCounts(bytes).Mul, 2);
  });

  test('after a conv whose output also feeds a residual Add', async () => {
    const input = tf.input({ shape: [5, 5, 4] });
    const conv = stack(input, tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }));
    const bn = stack(conv, tf.layers.batchNormalization({}));
    const output = tf.layers.add().apply([conv, bn]) as tfjs.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    randomizeWeights(tf, model);
    const bytes = await assertParity(tf, model);
    assert.equal(opCounts(bytes).Mul, 1, 'a shared conv output must not be rescaled');
  });

  test('on the NHWC input and on Dense outputs (folded into Gemm)', async () => {
    const nhwc = chainModel([4, 4, 3], tf.layers.batchNormalization({}));
    const nhwcBytes = await assertParity(tf, nhwc);
    assert.equal(opCounts(nhwcBytes).Transpose, undefined, 'elementwise work on the input needs no transpose');
    const dense = chainModel([6], tf.layers.dense({ units: 5 }), tf.layers.batchNormalization({}), tf.layers.softmax({ axis: -1 }));
    const denseBytes = await assertParity(tf, dense);
    assert.equal(opCounts(denseBytes).Mul, undefined);
  });
});

describe('activations', () => {
  const names = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'logSoftmax', 'elu', 'selu', 'softplus', 'softsign', 'hardSigmoid', 'swish', 'mish', 'gelu'];
  for (const activation of names) {
    test(`Activation "${activation}" on a conv output (NCHW inside)`, async () => {
      const model = chainModel(
        [4, 5, 3],
        tf.layers.conv2d({ filters: 3, kernelSize: 1 }),
        tf.layers.activation({ activation: activation as 'relu' }),
      );
      await assertParity(tf, model);
    });
  }

  test('ReLU, ReLU with maxValue, LeakyReLU, ELU', async () => {
    const model = chainModel(
      [6],
      tf.layers.dense({ units: 8 }),
      tf.layers.leakyReLU({ alpha: 0.2 }),
      tf.layers.dense({ units: 8 }),
      tf.layers.elu({}),
      tf.layers.dense({ units: 8 }),
      tf.layers.reLU({ maxValue: 0.5 }),
      tf.layers.dense({ units: 8 }),
      tf.layers.reLU({}),
    );
    const bytes = await assertParity(tf, model);
    const ops = opCounts(bytes);
    assert.deepEqual([ops.LeakyRelu, ops.Elu, ops.Clip, ops.Relu], [1, 1, 1, 1]);
  });

  test('Softmax layer: axis -1 on a 4D tensor held NCHW, and TF.js\'s default axis 1 on rank 2', async () => {
    // TF.js itself only implements softmax over the last axis, so those are the cases to match.
    const spatial = chainModel([3, 4, 5], tf.layers.conv2d({ filters: 2, kernelSize: 1 }), tf.layers.softmax({ axis: -1 }));
    const bytes = await assertParity(tf, spatial);
    assert.equal(opCounts(bytes).Transpose, 2);
    await assertParity(tf, chainModel([6], tf.layers.dense({ units: 4 }), tf.layers.softmax({})));
  });
});

describe('merge layers', () => {
  const mergers: [string, () => tfjs.layers.Layer][] = [
    ['Add', () => tf.layers.add()],
    ['Multiply', () => tf.layers.multiply()],
    ['Maximum', () => tf.layers.maximum()],
    ['Minimum', () => tf.layers.minimum()],
    ['Average', () => tf.layers.average()],
    ['Concatenate', () => tf.layers.concatenate()],
  ];
  for (const [name, make] of mergers) {
    test(`${name} of three branches, mixing NCHW and NHWC inputs`, async () => {
      const input = tf.input({ shape: [5, 6, 3] });
      const branches = [
        stack(input, tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' })),
        stack(input, tf.layers.depthwiseConv2d({ kernelSize: 1 })),
        input,
      ];
      const merged = make().apply(branches) as tfjs.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: stack(merged, tf.layers.conv2d({ filters: 2, kernelSize: 1 })) });
      randomizeWeights(tf, model);
      await assertParity(tf, model);
    });
  }

  test('Concatenate on rank 2', async () => {
    const input = tf.input({ shape: [4] });
    const a = stack(input, tf.layers.dense({ units: 3 }));
    const b = stack(input, tf.layers.dense({ units: 2 }));
    const joined = tf.layers.concatenate({ axis: -1 }).apply([a, b]) as tfjs.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: joined });
    randomizeWeights(tf, model);
    await assertParity(tf, model);
  });
});

describe('pooling, reshaping and core layers', () => {
  test('Average/Max pooling, valid and same (padding left out of averages)', async () => {
    const model = chainModel(
      [9, 8, 2],
      tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }),
      tf.layers.averagePooling2d({ poolSize: [2, 1], padding: 'valid' }),
    );
    await assertParity(tf, model);
    await assertParity(tf, chainModel([7, 7, 2], tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid' })));
  });

  test('GlobalMaxPooling2D and GlobalAveragePooling2D', async () => {
    for (const pool of [tf.layers.globalMaxPooling2d({}), tf.layers.globalAveragePooling2d({})]) {
      const model = chainModel([5, 4, 3], tf.layers.conv2d({ filters: 4, kernelSize: 1 }), pool, tf.layers.dense({ units: 3, activation: 'softmax' }));
      await assertParity(tf, model);
    }
  });

  test('Flatten of a spatial tensor uses NHWC order; Dropout is the identity', async () => {
    const model = chainModel(
      [4, 3, 2],
      tf.layers.conv2d({ filters: 3, kernelSize: 2, activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 4, activation: 'softmax' }),
    );
    const bytes = await assertParity(tf, model);
    assert.equal(opCounts(bytes).Transpose, 2, 'NHWC in, NCHW conv, back to NHWC before Flatten');
  });

  test('Reshape, Rescaling and Dense on a rank-3 tensor', async () => {
    const model = chainModel(
      [4, 4, 3],
      tf.layers.rescaling({ scale: 1 / 127.5, offset: -1 }),
      tf.layers.reshape({ targetShape: [-1, 6] }),
      tf.layers.dense({ units: 5, activation: 'sigmoid' }),
    );
    await assertParity(tf, model);
  });

  test('a nested model (functional backbone inside a Sequential) is inlined', async () => {
    const input = tf.input({ shape: [6, 6, 3] });
    const inner = tf.model({ inputs: input, outputs: stack(input, tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), tf.layers.batchNormalization({})) });
    const outer = tf.sequential({ layers: [inner, tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    randomizeWeights(tf, inner);
    randomizeWeights(tf, outer);
    const bytes = await assertParity(tf, outer);
    assert.equal(opCounts(bytes).Mul, undefined, 'BN folds across the nesting boundary too');
  });
});

describe('errors, options and metadata', () => {
  test('an unsupported layer throws UnsupportedLayerError naming it, before producing anything', () => {
    const model = chainModel([4, 4, 2], tf.layers.conv2d({ filters: 2, kernelSize: 1 }), tf.layers.conv2dTranspose({ filters: 2, kernelSize: 2, name: 'upsampler' }));
    assert.throws(
      () => exportLayersModel(model),
      (error: unknown) => {
        assert.ok(error instanceof UnsupportedLayerError);
        assert.equal(error.layerName, 'upsampler');
        assert.equal(error.className, 'Conv2DTranspose');
        assert.match(error.message, /"upsampler" \(Conv2DTranspose\)/);
        assert.match(error.message, /Supported layer classes: .*DepthwiseConv2D/);
        return true;
      },
    );
    const recurrent = chainModel([5, 3], tf.layers.lstm({ units: 2, name: 'memory' }));
    assert.throws(() => exportLayersModel(recurrent), /"memory" \(LSTM\)/);
  });

  test('an unsupported configuration is an UnsupportedLayerError with the reason', () => {
    const model = chainModel([3], tf.layers.dense({ units: 2, activation: 'gelu_new' as 'relu', name: 'approx' }));
    assert.throws(() => exportLayersModel(model), (error: unknown) => error instanceof UnsupportedLayerError && /"approx".*activation "gelu_new"/.test(error.message));
  });

  test('metadata, names, opset, IR version and a dynamic batch axis round-trip', async () => {
    const model = chainModel([3, 3, 2], tf.layers.flatten(), tf.layers.dense({ units: 2, activation: 'softmax' }));
    const metadata = { 'footwear.spec': JSON.stringify({ labels: ['a', 'b'] }), note: 'ünïcode ✓' };
    const bytes = await assertParity(tf, model, { exportOptions: { metadata, inputName: 'pixels', outputName: 'probabilities', opset: 17, modelName: 'tiny' } });
    const proto = decode(bytes);
    assert.deepEqual(Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value])), metadata);
    assert.equal(Number(proto.irVersion), 8);
    assert.equal(proto.producerName, 'footwear');
    assert.deepEqual(proto.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
    assert.equal(proto.graph?.name, 'tiny');
    assert.deepEqual(graphPorts(bytes), {
      inputs: [{ name: 'pixels', dims: ['N', 3, 3, 2] }],
      outputs: [{ name: 'probabilities', dims: ['N', 2] }],
    });
    assert.throws(() => exportLayersModel(model, { opset: 11 }), RangeError);
  });

  test('supportedLayers lists every class the exporter maps', () => {
    const expected = ['InputLayer', 'ZeroPadding2D', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'BatchNormalization', 'ReLU', 'LeakyReLU', 'ELU', 'Activation', 'Add', 'Multiply', 'Maximum', 'Minimum', 'Average', 'Concatenate', 'AveragePooling2D', 'MaxPooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten', 'Dense', 'Dropout', 'Softmax', 'Rescaling', 'Reshape'];
    const supported = supportedLayers();
    for (const name of expected) assert.ok(supported.includes(name), `${name} should be supported`);
    assert.ok(!supported.includes('Conv2DTranspose'));
  });
});

describe('MobileNetV2 from nsfwjs', () => {
  let mobilenet: tfjs.LayersModel;
  const images = [0, 1].map((i) => randomValues(224 * 224 * 3, 100 + i, 0, 1));
  before(async () => {
    mobilenet = await loadBaseModel(tf, 'mobilenet');
  });

  test('full model with its 5-class softmax head matches TF.js to 1e-4', async () => {
    const bytes = exportLayersModel(mobilenet);
    const ops = opCounts(bytes);
    assert.equal(ops.Transpose, 1);
    assert.equal(ops.Pad, undefined, 'every ZeroPadding2D is absorbed into its conv');
    assert.equal(ops.Mul, undefined, 'all 52 BatchNorms are folded');
    const result = await verifyAgainstTfjs(mobilenet, bytes, images);
    assert.equal(result.n, 2);
    assert.equal(result.sameArgmax, 2);
    assert.ok(result.maxAbsDiff <= 1e-4, `max |diff| ${result.maxAbsDiff}`);
  });

  test('the deployed classifier shape: pooled features of two blocks, concatenated, dense softmax', async () => {
    const pooled = ['block_6_expand_relu', 'block_13_expand_relu'].map((name) =>
      stack(mobilenet.getLayer(name).output as tfjs.SymbolicTensor, tf.layers.globalAveragePooling2d({})),
    );
    const features = tf.layers.concatenate().apply(pooled) as tfjs.SymbolicTensor;
    const head = tf.layers.dense({ units: 3, activation: 'softmax' });
    const classifier = tf.model({ inputs: mobilenet.inputs, outputs: stack(features, tf.layers.dropout({ rate: 0.3 }), head) });
    head.setWeights([tf.tensor(randomValues(3 * (192 + 576), 5, -0.3, 0.3), [192 + 576, 3]), tf.tensor(randomValues(3, 6), [3])]);
    const result = await verifyAgainstTfjs(classifier, exportLayersModel(classifier), images);
    assert.equal(result.sameArgmax, 2);
    assert.ok(result.maxAbsDiff <= 1e-4, `max |diff| ${result.maxAbsDiff}`);
  });

  test('features truncated at block_13_expand_relu (4D NHWC output) match TF.js', async () => {
    const features = truncate(tf, mobilenet, 'block_13_expand_relu');
    const bytes = exportLayersModel(features);
    const session = await ort.InferenceSession.create(bytes);
    const batch = new Float32Array(2 * 224 * 224 * 3);
    images.forEach((image, i) => batch.set(image, i * image.length));
    const got = (await session.run({ input: new ort.Tensor('float32', batch, [2, 224, 224, 3]) })).output;
    await session.release();
    const expected = tf.tidy(() => features.predict(tf.tensor(batch, [2, 224, 224, 3])) as tfjs.Tensor);
    assert.deepEqual([...got.dims], expected.shape);
    assert.deepEqual(expected.shape, [2, 14, 14, 576]);
    const want = expected.dataSync();
    expected.dispose();
    let maxAbsDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < want.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs((got.data[i] as number) - want[i]));
      maxAbs = Math.max(maxAbs, Math.abs(want[i]));
    }
    assert.ok(maxAbsDiff <= 1e-4 * Math.max(1, maxAbs), `max |diff| ${maxAbsDiff} with max |y| ${maxAbs}`);
  });
});
