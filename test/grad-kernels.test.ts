import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type * as tfjs from '@tensorflow/tfjs';
import { loadTf } from '../src/backbone/tf.ts';
import { registerGradientKernels, useSimdLoops } from '../src/backbone/kernels/index.ts';
import { setPatchBudget } from '../src/backbone/kernels/conv2d-backprop-filter.ts';
import { simdLoops } from '../src/backbone/kernels/simd-loops.ts';
import type { WasmBackend } from '../src/backbone/kernels/wasm-backend.ts';

// Every kernel registered on the wasm backend is held against the cpu backend's kernel of the
// same name on the same inputs, in one process: tensors are made on each backend from the same
// arrays, and results read back with dataSync. Shapes are small (the cpu kernels are plain JS
// loops) but cover what the fast paths branch on: 1x1 vs larger filters, stride 1 and 2,
// 'same' / 'valid' / explicit padding, odd channel counts (the SIMD loops' scalar tails),
// batches above 1 and non-square maps.
//
// Tolerance: max |wasm - cpu| <= TOLERANCE * max(1, max |cpu|) for single kernels (float32 sums
// of at most a few hundred products, in another order than the cpu backend's double sums; the
// largest difference seen is 4e-7 of the largest value, a few float32 steps), and
// END_TO_END_TOLERANCE for gradients and weights after training, which pass through batch
// normalisation and a dozen kernels (seen: 2e-7).
const TOLERANCE = 1e-5;
const END_TO_END_TOLERANCE = 1e-4;

const { tf, backend } = await loadTf('wasm');
after(() => {
  useSimdLoops(true);
  setPatchBudget(16 << 20);
});

type Pad = 'same' | 'valid' | tfjs.backend_util.ExplicitPadding;
interface Result {
  values: Float32Array | Int32Array | Uint8Array;
  shape: number[];
}
interface Data {
  values: Float32Array;
  shape: number[];
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Uniform in [-1, 1), the same for a given seed on every run. */
function data(shape: number[], seed: number): Data {
  const next = random(seed);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = next() * 2 - 1;
  return { values, shape };
}

const tensor = (d: Data): tfjs.Tensor => tf.tensor(d.values, d.shape);

async function onEach(backendName: 'cpu' | 'wasm', run: () => tfjs.Tensor[]): Promise<Result[]> {
  assert.ok(await tf.setBackend(backendName), `backend ${backendName} starts`);
  const outs = tf.tidy(run);
  const results = outs.map((out) => ({ values: out.dataSync() as Result['values'], shape: out.shape }));
  tf.dispose(outs);
  await tf.setBackend('wasm');
  return results;
}

const on = async (backendName: 'cpu' | 'wasm', run: () => tfjs.Tensor): Promise<Result> => (await onEach(backendName, () => [run()]))[0];

function assertClose(actual: Result, expected: Result, tolerance: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assert.equal(actual.values.length, expected.values.length, `${what}: size`);
  let maxRef = 0;
  let maxDiff = 0;
  let worst = -1;
  for (let i = 0; i < expected.values.length; i++) {
    const [a, e] = [actual.values[i], expected.values[i]];
    if (!Number.isFinite(a) || !Number.isFinite(e)) {
      // NaN and the infinities only where the cpu backend has the same.
      assert.ok(Object.is(a, e), `${what}: value ${i} is ${a} on wasm, ${e} on cpu`);
      continue;
    }
    maxRef = Math.max(maxRef, Math.abs(e));
    if (Math.abs(a - e) > maxDiff) [maxDiff, worst] = [Math.abs(a - e), i];
  }
  const bound = tolerance * Math.max(1, maxRef);
  assert.ok(maxDiff <= bound, `${what}: max |wasm - cpu| = ${maxDiff} at ${worst} (${actual.values[worst]} vs ${expected.values[worst]}) exceeds ${bound}`);
}

/** Runs `run` on both backends and compares; returns the cpu result for further checks. */
async function matchesCpu(what: string, run: () => tfjs.Tensor, tolerance = TOLERANCE): Promise<Result> {
  const expected = await on('cpu', run);
  assertClose(await on('wasm', run), expected, tolerance, what);
  return expected;
}

const runKernel = (name: string, inputs: Record<string, tfjs.Tensor>, attrs: Record<string, unknown>): tfjs.Tensor =>
  tf.engine().runKernel(name, inputs as tfjs.NamedTensorMap, attrs as tfjs.NamedAttrMap) as tfjs.Tensor;

function outputShape(x: number[], filter: number[], strides: number | [number, number], pad: Pad, depthwise: boolean): number[] {
  return tf.backend_util.computeConv2DInfo(x as [number, number, number, number], filter as [number, number, number, number], strides, 1, pad, undefined, depthwise).outShape;
}

interface ConvCase {
  x: number[];
  filter: number[];
  strides: number | [number, number];
  pad: Pad;
}

const label = (c: ConvCase): string => `x [${c.x}] filter [${c.filter}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)}`;

const DEPTHWISE_CASES: ConvCase[] = [
  { x: [2, 9, 7, 5], filter: [3, 3, 5, 1], strides: 1, pad: 'same' },
  { x: [3, 8, 11, 3], filter: [3, 3, 3, 1], strides: 2, pad: 'same' },
  { x: [2, 10, 10, 4], filter: [3, 3, 4, 1], strides: 2, pad: 'same' },
  // MobileNetV2's stride-2 blocks: ZeroPadding2D [[0, 1], [0, 1]], then a 'valid' convolution.
  { x: [2, 15, 13, 7], filter: [3, 3, 7, 1], strides: 2, pad: 'valid' },
  { x: [2, 6, 10, 8], filter: [3, 3, 8, 1], strides: 1, pad: 'valid' },
  { x: [2, 7, 9, 13], filter: [5, 3, 13, 1], strides: [2, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
];

const CONV_CASES: ConvCase[] = [
  { x: [3, 6, 5, 7], filter: [1, 1, 7, 5], strides: 1, pad: 'same' },
  { x: [2, 7, 9, 3], filter: [1, 1, 3, 6], strides: 1, pad: 'valid' },
  { x: [2, 8, 6, 5], filter: [1, 1, 5, 3], strides: 2, pad: 'valid' },
  { x: [2, 9, 7, 5], filter: [3, 3, 5, 3], strides: 1, pad: 'same' },
  // MobileNetV2's first convolution: 3x3, stride 2, 3 input channels.
  { x: [2, 9, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [2, 9, 7, 5], filter: [3, 2, 5, 7], strides: [2, 1], pad: 'valid' },
  { x: [2, 8, 6, 3], filter: [3, 3, 3, 5], strides: 1, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
];

const depthwiseFilterGradient = (c: ConvCase, seed: number) => () =>
  runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tensor(data(c.x, seed)), dy: tensor(data(outputShape(c.x, c.filter, c.strides, c.pad, true), seed + 1)) }, { strides: c.strides, pad: c.pad, dilations: 1, filterShape: c.filter });
const depthwiseInputGradient = (c: ConvCase, seed: number) => () =>
  runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tensor(data(outputShape(c.x, c.filter, c.strides, c.pad, true), seed + 1)), filter: tensor(data(c.filter, seed + 2)) }, { strides: c.strides, pad: c.pad, dilations: 1, inputShape: c.x });
const convFilterGradient = (c: ConvCase, seed: number) => () =>
  runKernel('Conv2DBackpropFilter', { x: tensor(data(c.x, seed)), dy: tensor(data(outputShape(c.x, c.filter, c.strides, c.pad, false), seed + 1)) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter });
const convInputGradient = (c: ConvCase, seed: number) => () =>
  runKernel('Conv2DBackpropInput', { dy: tensor(data(outputShape(c.x, c.filter, c.strides, c.pad, false), seed + 1)), filter: tensor(data(c.filter, seed + 2)) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });

describe('depthwise gradient kernels on wasm', () => {
  it('run the SIMD loops on the backend\'s own memory here', () => {
    assert.equal(backend, 'wasm');
    assert.ok(simdLoops(tf.backend() as unknown as WasmBackend), 'SIMD loops instantiate on the wasm heap');
  });

  for (const [i, c] of DEPTHWISE_CASES.entries()) {
    it(`match the cpu backend, SIMD and JS loops alike: ${label(c)}`, async () => {
      for (const simd of [true, false]) {
        useSimdLoops(simd);
        await matchesCpu(`DepthwiseConv2dNativeBackpropFilter (simd ${simd})`, depthwiseFilterGradient(c, 10 * i));
        await matchesCpu(`DepthwiseConv2dNativeBackpropInput (simd ${simd})`, depthwiseInputGradient(c, 10 * i));
      }
      useSimdLoops(true);
    });
  }

  it('give the same bits from the SIMD and the JS loops', async () => {
    const c = DEPTHWISE_CASES[3];
    for (const gradient of [depthwiseFilterGradient(c, 7), depthwiseInputGradient(c, 7)]) {
      useSimdLoops(true);
      const simd = await on('wasm', gradient);
      useSimdLoops(false);
      const js = await on('wasm', gradient);
      useSimdLoops(true);
      assert.deepEqual(new Uint32Array(simd.values.buffer), new Uint32Array(js.values.buffer));
    }
  });
});

describe('Conv2D gradient kernels on wasm', () => {
  for (const [i, c] of CONV_CASES.entries()) {
    it(`match the cpu backend: ${label(c)}`, async () => {
      await matchesCpu('Conv2DBackpropFilter', convFilterGradient(c, 100 + 10 * i));
      await matchesCpu('Conv2DBackpropInput', convInputGradient(c, 100 + 10 * i));
    });
  }

  it('sum patch products over chunks of the batch when the patch matrix would be too big', async () => {
    setPatchBudget(100);
    try {
      await matchesCpu('Conv2DBackpropFilter, one batch item per chunk', convFilterGradient({ x: [3, 7, 6, 5], filter: [3, 3, 5, 4], strides: 1, pad: 'same' }, 200));
      await matchesCpu('Conv2DBackpropFilter, two batch items per chunk', convFilterGradient({ x: [5, 4, 3, 2], filter: [2, 2, 2, 3], strides: 1, pad: 'valid' }, 210));
    } finally {
      setPatchBudget(16 << 20);
    }
  });
});

describe('reductions and Tile on wasm', () => {
  const tiles: [number[], number[], tfjs.DataType][] = [
    [[1, 1, 1, 5], [2, 3, 4, 1], 'float32'],
    [[2, 3], [3, 2], 'int32'],
    [[3, 1, 2], [1, 4, 3], 'bool'],
    [[], [], 'float32'],
    [[2, 3], [2, 0], 'float32'],
    [[4, 7], [1, 1], 'int32'],
  ];
  for (const [shape, reps, dtype] of tiles) {
    it(`Tile matches the cpu backend: [${shape}] by [${reps}], ${dtype}`, async () => {
      const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (dtype === 'bool' ? i % 3 === 0 : i * 1.5 - 4));
      await matchesCpu('Tile', () => runKernel('Tile', { x: tf.tensor(values as number[], shape, dtype) }, { reps }), 0);
    });
  }

  const x = data([3, 5, 4, 7], 300);
  for (const axis of [[0, 1, 2], [1, 2], [0], [1], [0, 1], [3], [2, 3], [0, 3], [1, 3]]) {
    for (const keepDims of [false, true]) {
      it(`Sum and Mean match the cpu backend over axes [${axis}], keepDims ${keepDims}`, async () => {
        await matchesCpu('Sum', () => runKernel('Sum', { x: tensor(x) }, { axis, keepDims }));
        await matchesCpu('Mean', () => runKernel('Mean', { x: tensor(x) }, { axis, keepDims }));
      });
    }
  }

  it('Sum of int32 data is left to the backend\'s own kernel and stays int32', async () => {
    const sum = await on('wasm', () => runKernel('Sum', { x: tf.tensor([[1, 2], [3, 4], [5, 6]], undefined, 'int32') }, { axis: [0], keepDims: false }));
    assert.ok(sum.values instanceof Int32Array);
    assert.deepEqual([...sum.values], [9, 12]);
  });
});

describe('elementwise kernels of batch norm and ReLU6 gradients on wasm', () => {
  // 3 x 7 x 5 x 11 = 1155 elements: not a multiple of 16, so every loop runs its scalar tail.
  const shape = [3, 7, 5, 11];
  const special = (d: Data): Data => {
    d.values.set([NaN, Infinity, -Infinity, 0.25, 0], 0);
    return d;
  };
  const x = special(data(shape, 900));
  const mask = (seed: number) => tf.greater(tensor(data(shape, seed)), 0);
  const stats = (seed: number, size = 11) => tensor({ values: data([size], seed).values.map((v) => 0.5 + Math.abs(v)), shape: [size] });
  const cases: [string, () => tfjs.Tensor][] = [
    ['GreaterEqual x >= 0.25', () => runKernel('GreaterEqual', { a: tensor(x), b: tf.scalar(0.25) }, {})],
    ['LessEqual x <= [[0.25]] (a rank-2 single value)', () => runKernel('LessEqual', { a: tensor(x), b: tf.tensor([[0.25]]) }, {})],
    ['GreaterEqual 0.25 >= x (the single value first)', () => runKernel('GreaterEqual', { a: tf.scalar(0.25), b: tensor(x) }, {})],
    ["LessEqual of a broadcast row (the backend's own kernel)", () => runKernel('LessEqual', { a: tensor(x), b: tensor(data([11], 901)) }, {})],
    ['LogicalAnd', () => runKernel('LogicalAnd', { a: mask(902), b: mask(903) }, {})],
    ["LogicalAnd of a broadcast row (the backend's own kernel)", () => runKernel('LogicalAnd', { a: mask(902), b: tf.tensor([true, false, true, true, false, true, true, true, false, true, true], undefined, 'bool') }, {})],
    ['Select', () => runKernel('Select', { condition: mask(904), t: tensor(x), e: tensor(data(shape, 905)) }, {})],
    ["Select by rows (the backend's own kernel)", () => runKernel('Select', { condition: tf.tensor([true, false, true], undefined, 'bool'), t: tensor(data([3, 4], 906)), e: tensor(data([3, 4], 907)) }, {})],
    ['FusedBatchNorm', () => runKernel('FusedBatchNorm', { x: tensor(data(shape, 908)), mean: tensor(data([11], 909)), variance: stats(910), offset: tensor(data([11], 911)), scale: tensor(data([11], 912)) }, { varianceEpsilon: 1e-3 })],
    ['FusedBatchNorm without offset and scale, single mean', () => runKernel('FusedBatchNorm', { x: tensor(data(shape, 913)), mean: tf.tensor([0.3]), variance: stats(914) }, { varianceEpsilon: 1e-3 })],
    ["FusedBatchNorm with statistics over the last two axes (the backend's own kernel)", () => runKernel('FusedBatchNorm', { x: tensor(data(shape, 915)), mean: tensor(data([55], 916)), variance: stats(917, 55) }, { varianceEpsilon: 1e-3 })],
    ['Identity', () => runKernel('Identity', { x: tensor(x) }, {})],
  ];
  for (const [what, run] of cases) {
    it(`${what} matches the cpu backend, SIMD and JS loops alike`, async () => {
      for (const simd of [true, false]) {
        useSimdLoops(simd);
        await matchesCpu(`${what} (simd ${simd})`, run);
      }
      useSimdLoops(true);
    });
  }

  it('give the same bits from the SIMD and the JS loops', async () => {
    for (const [what, run] of cases) {
      useSimdLoops(true);
      const simd = await on('wasm', run);
      useSimdLoops(false);
      const js = await on('wasm', run);
      useSimdLoops(true);
      assert.deepEqual(new Uint8Array(simd.values.buffer, simd.values.byteOffset, simd.values.byteLength), new Uint8Array(js.values.buffer, js.values.byteOffset, js.values.byteLength), what);
    }
  });

  it('Identity shares the data of its input, which outlives the input', () => {
    const original = tensor(x);
    const copy = tf.clone(original);
    const before = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    original.dispose();
    assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), before, 'the data stays while the clone holds it');
    assert.deepEqual(copy.dataSync(), x.values);
    copy.dispose();
    assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), before - 1, 'and goes with the clone');
  });

  it("Identity of strings is left to the backend's own kernel", () => {
    const copy = tf.clone(tf.tensor(['a', 'bc']));
    assert.deepEqual(copy.dataSync(), ['a', 'bc']);
    copy.dispose();
  });
});

describe('gradients of the ops on wasm', () => {
  it('tf.grads through conv2d and depthwiseConv2d of every padding and stride match the cpu backend', async () => {
    const x = data([2, 9, 8, 3], 400);
    const w1 = data([3, 3, 3, 6], 401);
    const w2 = data([3, 3, 6, 1], 402);
    const w3 = data([1, 1, 6, 5], 403);
    const w4 = data([3, 3, 5, 1], 404);
    for (const index of [0, 1, 2, 3, 4]) {
      await matchesCpu(`gradient ${index}`, () => {
        const f = (xs: tfjs.Tensor4D, a: tfjs.Tensor4D, b: tfjs.Tensor4D, c: tfjs.Tensor4D, d: tfjs.Tensor4D) => {
          const h1 = tf.conv2d(xs, a, 2, 'same');
          const h2 = tf.depthwiseConv2d(tf.pad(h1, [[0, 0], [0, 1], [0, 1], [0, 0]]), b, 2, 'valid');
          const h3 = tf.conv2d(h2, c, 1, 'same');
          return tf.depthwiseConv2d(h3, d, 1, 'same').square().sum();
        };
        const inputs = [x, w1, w2, w3, w4].map((d) => tensor(d) as tfjs.Tensor4D);
        return tf.grads(f as (...args: tfjs.Tensor[]) => tfjs.Tensor)(inputs)[index];
      });
    }
  });
});

describe('bad attributes', () => {
  const x = () => tensor(data([2, 9, 7, 5], 500));
  const dy = (shape = [2, 9, 7, 5]) => tensor(data(shape, 501));
  const cases: [string, () => tfjs.Tensor, RegExp][] = [
    ['dilations other than 1', () => runKernel('DepthwiseConv2dNativeBackpropFilter', { x: x(), dy: dy() }, { strides: 1, pad: 'same', dilations: 2, filterShape: [3, 3, 5, 1] }), /DepthwiseConv2dNativeBackpropFilter: expected dilations of 1, got 2/],
    ['a channel multiplier of 2', () => runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy([2, 9, 7, 10]), filter: tensor(data([3, 3, 5, 2], 502)) }, { strides: 1, pad: 'same', dilations: 1, inputShape: [2, 9, 7, 5] }), /expected a channel multiplier of 1 \(filter shape \[h, w, 5, 1\]\), got filter shape \[3, 3, 5, 2\]/],
    ['NCHW data', () => runKernel('Conv2DBackpropFilter', { x: x(), dy: dy() }, { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [1, 1, 5, 5] }), /Conv2DBackpropFilter: expected dataFormat 'NHWC', got 'NCHW'/],
    ['dy of the wrong shape', () => runKernel('Conv2DBackpropFilter', { x: x(), dy: dy([2, 9, 7, 4]) }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, 5, 3] }), /expected dy of shape \[2, 9, 7, 3\] \(the convolution's output\), got \[2, 9, 7, 4\]/],
    ['int32 input', () => runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.zeros([2, 9, 7, 5], 'int32'), dy: dy() }, { strides: 1, pad: 'same', dilations: 1, filterShape: [3, 3, 5, 1] }), /expected x of dtype float32, got int32/],
    ['a filter for other channels', () => runKernel('Conv2DBackpropInput', { dy: dy([2, 9, 7, 3]), filter: tensor(data([1, 1, 4, 3], 503)) }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 9, 7, 5] }), /expected a filter for 5 input channels, got filter shape \[1, 1, 4, 3\]/],
    ['reps of the wrong length', () => runKernel('Tile', { x: x() }, { reps: [1, 2] }), /Tile: expected reps of 4 non-negative integers .* got \[1,2\]/],
  ];
  for (const [what, run, message] of cases) {
    it(`give one clear error: ${what}`, () => {
      assert.throws(() => tf.tidy(run), message);
    });
  }
});

describe('registration', () => {
  it('is idempotent: a second call keeps the registered kernels, and the kept fallbacks still run', async () => {
    const names = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'Tile', 'Sum', 'Mean'];
    const before = names.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc);
    registerGradientKernels(tf);
    assert.deepEqual(names.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc), before);
    assert.ok(before.every((f) => typeof f === 'function'));
    await matchesCpu('Conv2DBackpropInput after registering twice (3x3: the backend\'s own kernel)', convInputGradient(CONV_CASES[3], 600));
  });
});

describe('training a MobileNetV2-style model on wasm', () => {
  // Two inverted-residual blocks as Keras builds MobileNetV2's: 1x1 expand, batch norm, ReLU6,
  // depthwise 3x3 (stride 2 after ZeroPadding2D [[0, 1], [0, 1]] and 'valid', or stride 1
  // 'same'), batch norm, ReLU6, 1x1 project, batch norm, and the residual Add; then global
  // pooling and a softmax head. Channel counts are odd on purpose.
  const INPUT = [10, 9, 7];
  const BATCH = 8;
  function build(weights: Data[] | undefined): tfjs.LayersModel {
    const input = tf.input({ shape: INPUT });
    const block = (x: tfjs.SymbolicTensor, name: string, expand: number, out: number, stride: 1 | 2): tfjs.SymbolicTensor => {
      const apply = (layer: tfjs.layers.Layer, at: tfjs.SymbolicTensor) => layer.apply(at) as tfjs.SymbolicTensor;
      const bn = (suffix: string) => tf.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: `${name}_${suffix}_BN` });
      const relu6 = (suffix: string) => tf.layers.reLU({ maxValue: 6, name: `${name}_${suffix}_relu` });
      let h = apply(relu6('expand'), apply(bn('expand'), apply(tf.layers.conv2d({ filters: expand, kernelSize: 1, padding: 'same', useBias: false, name: `${name}_expand` }), x)));
      if (stride === 2) h = apply(tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: `${name}_pad` }), h);
      h = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: stride === 2 ? 'valid' : 'same', useBias: false, name: `${name}_depthwise` }), h);
      h = apply(relu6('depthwise'), apply(bn('depthwise'), h));
      h = apply(bn('project'), apply(tf.layers.conv2d({ filters: out, kernelSize: 1, padding: 'same', useBias: false, name: `${name}_project` }), h));
      return stride === 1 && x.shape[3] === out ? (tf.layers.add({ name: `${name}_add` }).apply([x, h]) as tfjs.SymbolicTensor) : h;
    };
    const a = block(input, 'block_a', 18, 6, 2);
    const b = block(a, 'block_b', 15, 6, 1);
    const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(b) as tfjs.SymbolicTensor;
    const output = tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(pooled) as tfjs.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    if (weights) model.setWeights(weights.map(tensor));
    return model;
  }

  /** Random weights for every variable, batch-norm scales and offsets included (not their 1 and 0). */
  async function initialWeights(): Promise<{ names: string[]; weights: Data[] }> {
    await tf.setBackend('cpu');
    const model = build(undefined);
    const names = model.weights.map((w) => w.originalName);
    const weights = model.weights.map((w, i) => {
      const d = data(w.shape as number[], 700 + i);
      const shape = w.shape as number[];
      // Kernels uniform with variance 1 / fan-in, as He-style initialisers give.
      const fanIn = /depthwise_kernel/.test(names[i]) ? shape[0] * shape[1] : d.values.length / shape[shape.length - 1];
      const scale = /moving_mean|bias/.test(names[i]) ? 0.1 : /beta/.test(names[i]) ? 0.2 : /moving_variance|gamma/.test(names[i]) ? 0.5 : Math.sqrt(3 / fanIn);
      const offset = /moving_variance|gamma/.test(names[i]) ? 1 : 0;
      d.values.forEach((v, j) => (d.values[j] = offset + scale * v));
      return d;
    });
    model.dispose();
    await tf.setBackend('wasm');
    return { names, weights };
  }

  const xs = data([BATCH, ...INPUT], 800);
  const labels = Array.from({ length: BATCH }, (_, i) => i % 3);
  const ys = () => tf.oneHot(tf.tensor1d(labels, 'int32'), 3);

  it('gives the cpu backend\'s weight gradients', async () => {
    const { names, weights } = await initialWeights();
    const gradients = (): tfjs.Tensor[] => {
      const model = build(weights);
      const variables = model.trainableWeights.map((w) => w.read() as tfjs.Variable);
      const loss = () => tf.metrics.categoricalCrossentropy(ys(), model.apply(tensor(xs), { training: true }) as tfjs.Tensor).mean() as tfjs.Scalar;
      const { grads } = tf.variableGrads(loss, variables);
      const byName = model.trainableWeights.map((w, i) => [w.originalName, grads[variables[i].name]] as const);
      model.dispose();
      return names.filter((n) => !/moving_/.test(n)).map((n) => byName.find(([name]) => name === n)?.[1] ?? assert.fail(`no gradient for ${n}`));
    };
    const expected = await onEach('cpu', gradients);
    const actual = await onEach('wasm', gradients);
    assert.equal(actual.length, 20, 'gradients of every conv kernel, batch norm scale and offset, and the head');
    const trainable = names.filter((n) => !/moving_/.test(n));
    actual.forEach((gradient, i) => assertClose(gradient, expected[i], END_TO_END_TOLERANCE, `gradient of ${trainable[i]}`));
  });

  it('trains with model.fit: conv weights move, and end where the cpu backend\'s do', async () => {
    const { names, weights } = await initialWeights();
    const fitOn = async (backendName: 'cpu' | 'wasm'): Promise<{ after: Result[]; losses: number[] }> => {
      await tf.setBackend(backendName);
      const model = build(weights);
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
      const [x, y] = [tensor(xs), ys()];
      const history = await model.fit(x, y, { batchSize: BATCH / 2, epochs: 2, shuffle: false, verbose: 0 });
      const after = model.getWeights().map((w) => ({ values: w.dataSync() as Float32Array, shape: w.shape }));
      tf.dispose([x, y]);
      model.dispose();
      await tf.setBackend('wasm');
      return { after, losses: history.history.loss as number[] };
    };
    const cpu = await fitOn('cpu');
    const wasm = await fitOn('wasm');
    assert.equal(wasm.losses.length, 2);
    wasm.losses.forEach((loss, i) => assert.ok(Math.abs(loss - cpu.losses[i]) <= END_TO_END_TOLERANCE * Math.max(1, cpu.losses[i]), `epoch ${i} loss ${loss} on wasm, ${cpu.losses[i]} on cpu`));
    const kernels = names.flatMap((n, i) => (/(expand|depthwise|project)\/(depthwise_)?kernel/.test(n) ? [i] : []));
    assert.equal(kernels.length, 6, 'three conv kernels per block');
    for (const i of kernels) {
      const moved = Array.from(wasm.after[i].values).reduce((m, v, j) => Math.max(m, Math.abs(v - weights[i].values[j])), 0);
      assert.ok(moved > 1e-4, `${names[i]} changed by ${moved} in four steps`);
    }
    names.forEach((name, i) => assertClose(wasm.after[i], cpu.after[i], END_TO_END_TOLERANCE, `${name} after training`));
  });
});
