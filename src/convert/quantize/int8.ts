import { onnx, type OnnxProto } from '../onnx.ts';
import { calibrate, type CalibrationData } from './calibrate.ts';
import { GraphIndex } from './graph-index.ts';
import { correctHeads } from './head-correction.ts';
import { defaultOpset, describeQuantization } from './mode.ts';
import { calibrationRequest, planQdq } from './plan.ts';
import { applyQdq, type QdqSummary } from './qdq.ts';

/** Per-axis DequantizeLinear (per-channel weights) first appears in opset 13. */
const MIN_OPSET = 13;

export interface Int8Result {
  bytes: Uint8Array;
  summary: QdqSummary & { calibrationSamples: number };
}

export interface Int8Options {
  /** Where the calibration samples came from (e.g. a folder), recorded in the metadata. */
  source?: string;
}

/**
 * Static int8 quantisation of a float32 ONNX model into QDQ form: int8 symmetric per-channel
 * weights, uint8 asymmetric per-tensor activations whose ranges are the min/max the float model
 * reaches on `calibration`, biases corrected for the mean error that quantising causes. A
 * classifier head stays float (see plan.ts).
 */
export async function quantizeInt8(fp32: Uint8Array, calibration: CalibrationData, options: Int8Options = {}): Promise<Int8Result> {
  const { source } = options;
  const model: OnnxProto.IModelProto = onnx.ModelProto.decode(fp32);
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET) throw new RangeError(`int8 quantisation needs ONNX opset ${MIN_OPSET} or newer (per-channel DequantizeLinear); the model uses ${opset}`);
  const graph = model.graph as OnnxProto.IGraphProto;
  const index = new GraphIndex(graph);
  const plan = planQdq(index);
  // Ranges come from the untouched float graph, before the rewrite mutates its nodes.
  const measured = await calibrate(model, calibrationRequest(plan), calibration);
  const summary = applyQdq(graph, index, plan, measured);
  await correctHeads(model, plan.heads, measured.means, calibration);
  describeQuantization(model, {
    mode: 'int8',
    format: 'QDQ',
    weights: 'int8 symmetric per-channel (Conv axis 0, Gemm/MatMul output axis)',
    activations: 'uint8 asymmetric per-tensor',
    bias: 'int32 (input scale x weight scale), corrected for the mean weight-rounding error',
    ...(plan.heads.length > 0 && { head: 'float; its bias corrected for the mean error of the int8 features' }),
    calibration: { method: 'minmax', samples: calibration.inputs.length, ...(source !== undefined && { source }) },
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), summary: { ...summary, calibrationSamples: calibration.inputs.length } };
}
