import { onnx, type OnnxProto } from '../onnx.ts';
import { calibrate, type CalibrationData } from './calibrate.ts';
import { GraphIndex } from './graph-index.ts';
import { correctHeads } from './head-correction.ts';
import { defaultOpset, describeQuantization } from './mode.ts';
import { calibrationRequest, planQdq } from './plan.ts';
import { applyQdq, type QdqSummary } from './qdq.ts';
import { DEFAULT_INT8, variantName, type Int8Variant } from './variant.ts';

/** Per-axis DequantizeLinear (per-channel weights) first appears in opset 13. */
const MIN_OPSET = 13;

export interface Int8Result {
  bytes: Uint8Array;
  summary: QdqSummary & { calibrationSamples: number };
}

export interface Int8Options {
  /** Where the calibration samples came from (e.g. a folder), recorded in the metadata. */
  source?: string;
  /** Activation type, weight granularity and which kinds of node go integer; DEFAULT_INT8 if unset. */
  variant?: Int8Variant;
}

/**
 * Static int8 quantisation of a float32 ONNX model into QDQ form: int8 symmetric weights,
 * asymmetric per-tensor activations whose ranges are the min/max the float model reaches on
 * `calibration`, biases corrected for the mean error that quantising causes. By default
 * (DEFAULT_INT8) weights are per channel, activations uint8, and a classifier head stays float,
 * its bias corrected for the int8 features' mean error.
 */
export async function quantizeInt8(fp32: Uint8Array, calibration: CalibrationData, options: Int8Options = {}): Promise<Int8Result> {
  const { source, variant = DEFAULT_INT8 } = options;
  const model: OnnxProto.IModelProto = onnx.ModelProto.decode(fp32);
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET) throw new RangeError(`int8 quantisation needs ONNX opset ${MIN_OPSET} or newer (per-channel DequantizeLinear); the model uses ${opset}`);
  const graph = model.graph as OnnxProto.IGraphProto;
  const index = new GraphIndex(graph);
  const plan = planQdq(index, variant);
  // Ranges come from the untouched float graph, before the rewrite mutates its nodes.
  const measured = await calibrate(model, calibrationRequest(plan), calibration);
  const summary = applyQdq(graph, index, plan, measured, variant);
  await correctHeads(model, plan.heads, measured.means, calibration);
  describeQuantization(model, {
    mode: 'int8',
    format: 'QDQ',
    weights: variant.weights === 'per-channel' ? 'int8 symmetric per-channel (Conv axis 0, Gemm/MatMul output axis)' : 'int8 symmetric per-tensor',
    activations: `${variant.activations} asymmetric per-tensor`,
    integer: Object.entries(variant.ops).flatMap(([kind, on]) => (on ? [kind] : [])),
    variant: variantName(variant),
    bias: 'int32 (input scale x weight scale), corrected for the mean weight-rounding error',
    ...(plan.heads.length > 0 && { head: 'float; its bias corrected for the mean error of the int8 features' }),
    calibration: { method: 'minmax', samples: calibration.inputs.length, ...(source !== undefined && { source }) },
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), summary: { ...summary, calibrationSamples: calibration.inputs.length } };
}
