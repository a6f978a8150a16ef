import * as ort from 'onnxruntime-node';
import { onnx, type OnnxProto } from '../onnx.ts';
import type { Range } from './params.ts';
import { DataType, valueInfoOfType } from './tensors.ts';

/** Preprocessed samples for the model's single input; `shape` is one sample's dims (no batch). */
export interface CalibrationData {
  inputs: Float32Array[];
  shape: readonly number[];
}

/** Samples per run: enough to amortise a run, few enough that every activation fits in memory. */
const BATCH = 8;

/**
 * Runs the float model on the calibration samples with every tensor in `tensors` exposed as an
 * extra graph output, and returns each one's observed [min, max]. ONNX Runtime does the work
 * (its Python calibrators are not reachable from Node), so ranges are those of the real kernels.
 */
export async function measureRanges(model: OnnxProto.IModelProto, tensors: readonly string[], data: CalibrationData): Promise<Map<string, Range>> {
  if (data.inputs.length === 0) throw new RangeError('calibration needs at least one sample');
  const probe = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = probe.graph as OnnxProto.GraphProto;
  const inputName = graph.input.find((i) => !graph.initializer.some((t) => t.name === i.name))?.name ?? '';
  const outputs = new Set(graph.output.map((o) => o.name));
  const fetched = tensors.filter((t) => t !== inputName);
  for (const t of fetched) if (!outputs.has(t)) graph.output.push(onnx.ValueInfoProto.create(valueInfoOfType(t, DataType.FLOAT)));

  const ranges = new Map<string, Range>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
  const observe = (tensor: string, values: Float32Array): void => {
    const range = ranges.get(tensor) as Range;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < range.min) range.min = v;
      if (v > range.max) range.max = v;
    }
  };

  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), { executionProviders: ['cpu'] });
  try {
    const size = data.shape.reduce((a, b) => a * b, 1);
    for (let start = 0; start < data.inputs.length; start += BATCH) {
      const batch = data.inputs.slice(start, start + BATCH);
      const feed = new Float32Array(batch.length * size);
      batch.forEach((sample, i) => feed.set(sample, i * size));
      if (ranges.has(inputName)) observe(inputName, feed);
      const results = await session.run({ [inputName]: new ort.Tensor('float32', feed, [batch.length, ...data.shape]) }, fetched);
      for (const t of fetched) observe(t, results[t].data as Float32Array);
    }
  } finally {
    await session.release();
  }
  return ranges;
}
