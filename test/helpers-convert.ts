import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type * as tfjs from '@tensorflow/tfjs';
import { loadTf, type Tf } from '../src/backbone/tf.ts';
import { exportLayersModel, onnx, type ExportOptions } from '../src/convert/index.ts';
import type { OnnxProto } from '../src/convert/onnx.ts';

export { ort };

export async function getTf(): Promise<Tf> {
  return (await loadTf()).tf;
}

/** Deterministic uniform values in [min, max) (mulberry32), so failures reproduce. */
export function randomValues(count: number, seed: number, min = -1, max = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = min + (max - min) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/**
 * Gives every weight a non-trivial random value: BatchNorm statistics and affine terms included
 * (their initial 0/1 values would hide a wrong fold), variances kept positive.
 */
export function randomizeWeights(tf: Tf, model: tfjs.LayersModel, seed = 1): void {
  let next = seed;
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
      const kind = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      const [min, max] = kind === 'moving_variance' ? [0.2, 2] : kind === 'gamma' ? [0.5, 1.5] : [-0.6, 0.6];
      return tf.tensor(randomValues(size, next++, min, max), w.shape as number[]);
    });
    if (values.length > 0) layer.setWeights(values);
    values.forEach((v) => v.dispose());
  }
}

/** Applies layers one after another, functional-API style. */
export function stack(input: tfjs.SymbolicTensor, ...layers: tfjs.layers.Layer[]): tfjs.SymbolicTensor {
  return layers.reduce((x, layer) => layer.apply(x) as tfjs.SymbolicTensor, input);
}

export interface Parity {
  maxAbsDiff: number;
  /** Largest |y| of the TF.js output, for relative tolerances. */
  maxAbs: number;
  onnxShape: readonly number[];
  tfShape: number[];
}

/** Runs one random batch through TF.js and through the exported bytes in onnxruntime-node. */
export async function compareOnBatch(tf: Tf, model: tfjs.LayersModel, bytes: Uint8Array, batch: number, seed = 7): Promise<Parity> {
  const sample = model.inputs[0].shape.slice(1) as number[];
  const shape = [batch, ...sample];
  const data = randomValues(shape.reduce((a, b) => a * b, 1), seed);
  const expected = tf.tidy(() => model.predict(tf.tensor(data, shape)) as tfjs.Tensor);
  const tfShape = expected.shape;
  const want = expected.dataSync();
  expected.dispose();
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, shape) });
    const got = result[session.outputNames[0]];
    let maxAbsDiff = 0;
    let maxAbs = 0;
    assert.equal(got.data.length, want.length, 'ONNX and TF.js output sizes differ');
    for (let i = 0; i < want.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs((got.data[i] as number) - want[i]));
      maxAbs = Math.max(maxAbs, Math.abs(want[i]));
    }
    if (Number.isNaN(maxAbsDiff)) maxAbsDiff = Infinity;
    return { maxAbsDiff, maxAbs, onnxShape: got.dims, tfShape };
  } finally {
    await session.release();
  }
}

/**
 * Exports `model` and asserts ONNX Runtime reproduces TF.js on each batch size with one file:
 * same output shape, and max |diff| <= 1e-4 * max(1, max |y|). Returns the bytes for further checks.
 */
export async function assertParity(
  tf: Tf,
  model: tfjs.LayersModel,
  options: { batches?: number[]; exportOptions?: ExportOptions; tolerance?: number } = {},
): Promise<Uint8Array> {
  const bytes = exportLayersModel(model, options.exportOptions);
  for (const batch of options.batches ?? [1, 3]) {
    const parity = await compareOnBatch(tf, model, bytes, batch);
    assert.deepEqual([...parity.onnxShape], parity.tfShape, `output shape for batch ${batch}`);
    const limit = (options.tolerance ?? 1e-4) * Math.max(1, parity.maxAbs);
    assert.ok(parity.maxAbsDiff <= limit, `batch ${batch}: max |ONNX - TF.js| = ${parity.maxAbsDiff} exceeds ${limit}`);
  }
  return bytes;
}

export function decode(bytes: Uint8Array) {
  return onnx.ModelProto.decode(bytes);
}

export interface GraphPort {
  name: string;
  /** Fixed sizes as numbers, symbolic ones (the batch) as their name. */
  dims: (number | string)[];
}

/** Names and dims of the graph inputs and outputs. */
export function graphPorts(bytes: Uint8Array): { inputs: GraphPort[]; outputs: GraphPort[] } {
  const graph = decode(bytes).graph;
  const port = (info: OnnxProto.IValueInfoProto): GraphPort => ({
    name: info.name ?? '',
    dims: (info.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || Number(d.dimValue)),
  });
  return { inputs: (graph?.input ?? []).map(port), outputs: (graph?.output ?? []).map(port) };
}

/** How many nodes of each op type the exported graph has. */
export function opCounts(bytes: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of decode(bytes).graph?.node ?? []) counts[node.opType ?? '?'] = (counts[node.opType ?? '?'] ?? 0) + 1;
  return counts;
}

/** The `attribute` of the first node of `opType`, as plain numbers. */
export function intsAttribute(bytes: Uint8Array, opType: string, name: string, nth = 0): number[] | undefined {
  const node = (decode(bytes).graph?.node ?? []).filter((n) => n.opType === opType)[nth];
  return node?.attribute?.find((a) => a.name === name)?.ints?.map(Number);
}
