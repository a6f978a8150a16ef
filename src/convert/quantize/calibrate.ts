import * as ort from 'onnxruntime-node';
import { onnx, type OnnxProto } from '../onnx.ts';
import type { Range } from './params.ts';
import { DataType, valueInfoOfType } from './tensors.ts';

/** Preprocessed samples for the model's single input; `shape` is one sample's dims (no batch). */
export interface CalibrationData {
  inputs: Float32Array[];
  shape: readonly number[];
}

/** Samples per run: enough to amortise a run, few enough that one batch's activations fit in memory. */
const BATCH = 16;

/**
 * Runs the float model on the calibration samples and returns the [min, max] each tensor in
 * `tensors` reaches. ReduceMin/ReduceMax nodes appended to a copy of the graph do the measuring
 * inside ONNX Runtime, so only two scalars per tensor cross into JavaScript instead of every
 * activation (megabytes per image), and the ranges are those of the real kernels.
 */
export async function measureRanges(model: OnnxProto.IModelProto, tensors: readonly string[], data: CalibrationData): Promise<Map<string, Range>> {
  if (data.inputs.length === 0) throw new RangeError('calibration needs at least one sample');
  const probe = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = probe.graph as OnnxProto.GraphProto;
  const inputName = graph.input.find((i) => !graph.initializer.some((t) => t.name === i.name))?.name ?? '';
  const taken = new Set([...graph.node.flatMap((n) => n.output), ...graph.input.map((i) => i.name)]);
  const probes = tensors.map((tensor) => {
    const [min, max] = ['min', 'max'].map((kind) => {
      let name = `${tensor}/calibration_${kind}`;
      while (taken.has(name)) name += '_';
      taken.add(name);
      // No axes: reduce over everything, batch included; keepdims 0 makes it a scalar.
      graph.node.push(onnx.NodeProto.create({ opType: kind === 'min' ? 'ReduceMin' : 'ReduceMax', input: [tensor], output: [name], attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] }));
      graph.output.push(onnx.ValueInfoProto.create(valueInfoOfType(name, DataType.FLOAT)));
      return name;
    });
    return { tensor, min, max };
  });

  const ranges = new Map<string, Range>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), { executionProviders: ['cpu'] });
  try {
    const size = data.shape.reduce((a, b) => a * b, 1);
    const fetches = probes.flatMap((p) => [p.min, p.max]);
    for (let start = 0; start < data.inputs.length; start += BATCH) {
      const batch = data.inputs.slice(start, start + BATCH);
      const feed = new Float32Array(batch.length * size);
      batch.forEach((sample, i) => feed.set(sample, i * size));
      const results = await session.run({ [inputName]: new ort.Tensor('float32', feed, [batch.length, ...data.shape]) }, fetches);
      for (const p of probes) {
        const range = ranges.get(p.tensor) as Range;
        range.min = Math.min(range.min, (results[p.min].data as Float32Array)[0]);
        range.max = Math.max(range.max, (results[p.max].data as Float32Array)[0]);
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}
