import type { OnnxProto } from '../onnx.ts';
import { calibrate, type CalibrationData } from './calibrate.ts';
import { attribute, GraphIndex, type Node } from './graph-index.ts';
import { floatTensor } from './tensors.ts';

/**
 * Removes the systematic part of the quantised network's error where it ends up: the pooled
 * features a float classifier head reads. The int8 model's features are measured on the
 * calibration samples (with ONNX Runtime's real integer kernels) and compared with the float
 * model's means; the head's bias absorbs W x (mean error), so the average logits match again.
 * The shift is one number per class, which 100 samples estimate well; what remains is
 * zero-mean noise. (Per-layer corrections happen earlier, for weight rounding: bias-correction.ts.)
 */
export async function correctHeads(model: OnnxProto.IModelProto, heads: Node[], floatMeans: Map<string, Float32Array>, data: CalibrationData): Promise<void> {
  if (heads.length === 0) return;
  const graph = model.graph as OnnxProto.IGraphProto;
  const request = { ranges: [], means: heads.map((h) => ({ tensor: h.input?.[0] ?? '', axes: [0] })) };
  const { means: quantizedMeans } = await calibrate(model, request, data);
  const index = new GraphIndex(graph);
  for (const head of heads) {
    const [features, weightName, biasName] = head.input as string[];
    const error = (quantizedMeans.get(features) as Float32Array).map((q, k) => q - (floatMeans.get(features) as Float32Array)[k]);
    const weight = index.floatInitializer(weightName) as Float32Array;
    const bias = index.floatInitializer(biasName) as Float32Array;
    const transB = attribute(head, 'transB') === 1;
    const outputs = bias.length;
    const corrected = bias.map((b, n) => {
      let shift = 0;
      for (let k = 0; k < error.length; k++) shift += error[k] * weight[transB ? n * error.length + k : k * outputs + n];
      return b - shift;
    });
    graph.initializer = (graph.initializer ?? []).map((t) => (t.name === biasName ? floatTensor(biasName, corrected, [outputs]) : t));
  }
}
