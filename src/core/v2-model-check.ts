import { parseClassification } from './v2-classification.ts';
import type { ModelSpec } from './spec.ts';

// Whether the model a v2 server serves is the one the local spec describes. The remote runtime
// sends tensors preprocessed by the local spec and reads the scores by its labels, so a model
// with another input, output, label order or preprocessing would answer, and answer wrongly.

interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

const show = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

function isTensor(value: unknown): value is MetadataTensor {
  const t = value as MetadataTensor | null;
  return typeof t === 'object' && t !== null && typeof t.name === 'string' && typeof t.datatype === 'string' && Array.isArray(t.shape);
}

const describe = (t: unknown) => (isTensor(t) ? `"${t.name}" ${t.datatype} [${t.shape.join(', ')}]` : show(t));

function sameTensor(remote: unknown, local: MetadataTensor): boolean {
  return isTensor(remote) && remote.name === local.name && remote.datatype === local.datatype && show(remote.shape) === show(local.shape);
}

/** The first place two label lists differ, in words; undefined when they are the same. */
export function labelDifference(there: readonly string[], here: readonly string[]): string | undefined {
  const i = Array.from({ length: Math.max(there.length, here.length) }, (_, j) => j).find((j) => there[j] !== here[j]);
  if (i === undefined) return undefined;
  const list = (labels: readonly string[]) => (labels.length <= 8 ? labels.join(', ') : `${labels.slice(0, 8).join(', ')}, ... (${labels.length})`);
  return `labels [${list(there)}] there, [${list(here)}] here (first difference at index ${i})`;
}

/**
 * What differs between a server's model metadata ($metadata_model_response) and the local spec:
 * the input (name, FP32, [-1, H, W, 3]), the first output (name, FP32, [-1, classes]), and, when
 * the server publishes them as footwear serve does (parameters.labels, parameters.preprocess),
 * the labels and the preprocessing. Empty when they agree.
 */
export function metadataDifferences(metadata: unknown, spec: ModelSpec): string[] {
  const m = metadata as { inputs?: unknown; outputs?: unknown; parameters?: { labels?: unknown; preprocess?: unknown } } | null;
  if (typeof m !== 'object' || m === null || !Array.isArray(m.inputs) || !Array.isArray(m.outputs)) {
    return [`its model metadata has no "inputs" and "outputs" lists (got ${show(metadata)})`];
  }
  const { height, width } = spec.preprocess;
  const input: MetadataTensor = { name: spec.inputName, datatype: 'FP32', shape: [-1, height, width, 3] };
  const output: MetadataTensor = { name: spec.outputName, datatype: 'FP32', shape: [-1, spec.labels.length] };
  const differences: string[] = [];
  if (m.inputs.length !== 1 || !sameTensor(m.inputs[0], input)) {
    differences.push(`input ${m.inputs.map(describe).join(', ') || 'none'} there, ${describe(input)} here`);
  }
  if (!sameTensor(m.outputs[0], output)) differences.push(`first output ${m.outputs.length ? describe(m.outputs[0]) : 'none'} there, ${describe(output)} here`);
  const labels = m.parameters?.labels;
  if (Array.isArray(labels)) {
    const difference = labelDifference(labels.map(String), spec.labels);
    if (difference) differences.push(difference);
  }
  const preprocess = m.parameters?.preprocess as Partial<ModelSpec['preprocess']> | undefined;
  if (typeof preprocess === 'object' && preprocess !== null) {
    for (const key of ['resize', 'background', 'range'] as const) {
      if (show(preprocess[key]) !== show(spec.preprocess[key])) differences.push(`preprocess.${key} ${show(preprocess[key])} there, ${show(spec.preprocess[key])} here`);
    }
  }
  return differences;
}

/** Whether the server's metadata lists the model's labels (footwear serve does; Triton does not). */
export function publishesLabels(metadata: unknown): boolean {
  return Array.isArray((metadata as { parameters?: { labels?: unknown } } | null)?.parameters?.labels);
}

/**
 * The labels a classification-extension answer reveals: one "value:index:label" string per class
 * of one image. Undefined when the server sent no labels (a Triton model without label_filename).
 */
export function labelsFromClassifications(entries: readonly string[], classes: number): string[] | undefined {
  const labels: string[] = [];
  for (const entry of entries) {
    const parsed = parseClassification(entry);
    if (!parsed || parsed.label === undefined || parsed.index >= classes) return undefined;
    labels[parsed.index] = parsed.label;
  }
  // Array.from, not labels.every: every() skips the holes of an index that never came.
  const full = Array.from({ length: classes }, (_, i) => labels[i]);
  return full.every((l) => typeof l === 'string') ? full : undefined;
}
