// The shape of a bench report: what `npm run bench:infer -- --json` prints and the tests check.

/** Model files the bench knows: model.onnx and what `footwear convert --quantize` writes beside it. */
export type VariantName = 'fp32' | 'int8' | 'fp16';

export type RowKind =
  /** onnxruntime-node on ready input tensors: the model alone, no files, no decode. */
  | 'raw-ort'
  /** Classifier.classifyFiles, what `footwear predict` runs: read, decode, resize, run, top-k. */
  | 'predict'
  /** One file at a time through classifyFiles (batch 1): the per-image latency rows. */
  | 'predict-latency'
  /** The same job in TF.js: read, decode and preprocess alike, model.predict, top-k. */
  | 'tfjs'
  /** onnxruntime-web's wasm build in Node on ready input tensors. */
  | 'ort-web'
  /** Read, decode and resize only, on one thread, no model: what preprocessing costs. */
  | 'prepare'
  /** The same with every photo decoded by sharp (libvips), the path before the wasm JPEG decoder. */
  | 'prepare-sharp';

export interface BenchRow {
  kind: RowKind;
  /** Human-readable runtime, e.g. 'onnxruntime-node (cpu)' or 'TF.js (wasm)'. */
  runtime: string;
  variant: VariantName;
  batchSize: number;
  /** Images timed (warm-up excluded). */
  images: number;
  seconds: number;
  imagesPerSecond: number;
  msPerImage: number;
  /** CPU time of the whole process (every thread) per image while the row ran. */
  cpuMsPerImage: number;
  /** 1-minute load average when the row finished. */
  load1m: number;
  /** Largest sampled resident set size while the row ran, MiB (the process's, so cumulative). */
  peakRssMiB: number;
  /** Set on the raw-ort row with the best rate of its variant's batch sweep. */
  best?: boolean;
}

export interface VariantStatus {
  variant: VariantName;
  file: string;
  /** 'failed': the file exists but could not be loaded or run; `error` says why. */
  status: 'measured' | 'failed';
  error?: string;
  /** predict / raw model for this file, as the fp32 goal ratio is taken (see pairing). */
  predictOverRawOrt?: number;
}

/** How the goal ratio predict / raw ORT was taken: alternating rounds under the same load. */
export interface Pairing {
  rounds: number;
  /** The raw model's batch size in the rounds: the best of the sweep. */
  rawBatchSize: number;
  /** img/s per round. */
  raw: number[];
  predict: number[];
}

export interface Ratio {
  value: number;
  goal: number;
  met: boolean;
}

export interface LatencySummary {
  images: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface BenchReport {
  machine: string;
  date: string;
  /** How to reproduce the run, when the caller said (the CLI does). */
  command?: string;
  model: string;
  data: string;
  /** Images timed by the main rows; the slow baselines may time fewer (see each row). */
  images: number;
  executionProvider: string;
  /** ONNX Runtime intra-op threads asked for; null means the runtime's default. */
  threads: number | null;
  loadAverage: { start: number; end: number };
  peakRssMiB: number;
  variants: VariantStatus[];
  rows: BenchRow[];
  /** fp32 summary: raw ORT at batch 1 and at its best batch size, predict, baselines (img/s). */
  rawOrt: { batch1: number; best: number; bestBatchSize: number };
  predict: number;
  pairing: Pairing;
  latency: LatencySummary;
  tfjs?: number;
  ortWeb?: number;
  ratios: { predictOverRawOrt: Ratio; predictOverTfjs?: Ratio };
  /**
   * Why predict cannot reach the model's own rate when the model already keeps every core busy:
   * CPU per image of the model alone (at its best batch) and of preprocessing alone, and the
   * rate and ratio a perfectly overlapped predict could reach on `cores` cores at most.
   */
  cpuBudget: { cores: number; modelCpuMs: number; prepareCpuMs: number; ceilingRate: number; ceilingRatio: number };
  /** Baselines that were asked for but could not run, with the reason. */
  skipped: { what: string; reason: string }[];
}
