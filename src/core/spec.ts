// The shared vocabulary of every stage. A ModelSpec travels inside each exported ONNX file
// (metadata key SPEC_METADATA_KEY), so training, Node inference and the browser agree on labels
// and preprocessing without side files.
import { UserError } from './errors.ts';

export const SPEC_FORMAT = 'footwear/1';
export const SPEC_METADATA_KEY = 'footwear.spec';

export interface PreprocessSpec {
  /** Model input height and width in pixels. */
  height: number;
  width: number;
  /**
   * 'contain' keeps the aspect ratio and pads with `background` (catalogue photos are 4:3 on
   * white, so padding with white keeps them looking like their training data); 'fill' stretches.
   */
  resize: 'contain' | 'fill';
  /** RGB used for padding and for flattening transparency. */
  background: [number, number, number];
  /** Pixel values 0..255 map linearly onto [min, max]. */
  range: [number, number];
  /** Tensor layout of the single model input. */
  layout: 'NHWC';
}

export interface ModelSpec {
  format: typeof SPEC_FORMAT;
  labels: string[];
  preprocess: PreprocessSpec;
  inputName: string;
  outputName: string;
  /** What the model was built from; informative only. */
  backbone?: { name: string; cut: string };
  createdAt?: string;
}

export function defaultPreprocess(overrides: Partial<PreprocessSpec> = {}): PreprocessSpec {
  return {
    height: 224,
    width: 224,
    resize: 'contain',
    background: [255, 255, 255],
    range: [0, 1],
    layout: 'NHWC',
    ...overrides,
  };
}

export class SpecError extends UserError {
  override name = 'SpecError';
}

/** Parses and checks a spec read from model metadata; says what was expected and what came. */
export function parseSpec(json: string, source: string): ModelSpec {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new SpecError(`${source}: metadata "${SPEC_METADATA_KEY}" is not valid JSON (${(error as Error).message})`);
  }
  return validateSpec(value, source);
}

export function validateSpec(value: unknown, source: string): ModelSpec {
  const fail = (what: string): never => {
    throw new SpecError(`${source}: model spec ${what}`);
  };
  if (typeof value !== 'object' || value === null) fail(`should be an object, got ${typeof value}`);
  const spec = value as Partial<ModelSpec>;
  if (spec.format !== SPEC_FORMAT) fail(`format should be "${SPEC_FORMAT}", got ${JSON.stringify(spec.format)}`);
  if (!Array.isArray(spec.labels) || spec.labels.length < 2 || !spec.labels.every((l) => typeof l === 'string')) {
    fail(`labels should be an array of at least 2 strings, got ${JSON.stringify(spec.labels)}`);
  }
  const p = spec.preprocess as Partial<PreprocessSpec> | undefined;
  if (!p || typeof p !== 'object') return fail('lacks "preprocess"');
  for (const key of ['height', 'width'] as const) {
    if (!Number.isInteger(p[key]) || (p[key] as number) < 1) fail(`preprocess.${key} should be a positive integer, got ${p[key]}`);
  }
  if (p.resize !== 'contain' && p.resize !== 'fill') fail(`preprocess.resize should be "contain" or "fill", got ${JSON.stringify(p.resize)}`);
  if (!Array.isArray(p.background) || p.background.length !== 3) fail('preprocess.background should be [r, g, b]');
  if (!Array.isArray(p.range) || p.range.length !== 2) fail('preprocess.range should be [min, max]');
  if (p.layout !== 'NHWC') fail(`preprocess.layout should be "NHWC", got ${JSON.stringify(p.layout)}`);
  if (typeof spec.inputName !== 'string' || typeof spec.outputName !== 'string') fail('lacks inputName/outputName');
  return spec as ModelSpec;
}

/** Decompression-bomb guard: the largest width x height decoded, in Node and in browsers alike. */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/** File names inside a model directory, shared by every stage that reads or writes one. */
export const MODEL_FILES = {
  onnx: 'model.onnx',
  tfjs: 'tfjs',
  record: 'training.json',
  checkpoint: 'checkpoint.json',
  featureCache: 'cache',
  report: 'report.html',
} as const;
