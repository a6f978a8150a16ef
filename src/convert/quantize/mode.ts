import type { OnnxProto } from '../onnx.ts';

/** What `convert --quantize` accepts: int8 for CPUs, fp16 for GPUs and WebGPU. */
export const QUANTIZE_MODES = ['int8', 'fp16'] as const;
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

/** ONNX metadata key describing how a model was quantised (JSON); absent on float32 models. */
export const QUANTIZATION_METADATA_KEY = 'footwear.quantization';

/** The mode named by `value`; a RangeError listing the accepted ones otherwise. */
export function parseQuantizeMode(value: string): QuantizeMode {
  const mode = QUANTIZE_MODES.find((m) => m === value.toLowerCase());
  if (!mode) throw new RangeError(`--quantize should be one of ${QUANTIZE_MODES.join('|')}, got "${value}"`);
  return mode;
}

/** Sets (or replaces) the quantisation description, leaving footwear.spec and other keys as they are. */
export function describeQuantization(model: OnnxProto.IModelProto, description: Record<string, unknown>): void {
  const props = (model.metadataProps ?? []).filter((p) => p.key !== QUANTIZATION_METADATA_KEY);
  props.push({ key: QUANTIZATION_METADATA_KEY, value: JSON.stringify(description) });
  model.metadataProps = props;
}

/** The default-domain opset a model imports (ONNX's default domain is '' or 'ai.onnx'). */
export function defaultOpset(model: OnnxProto.IModelProto): number {
  const entry = model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx');
  return Number(entry?.version ?? 0);
}
