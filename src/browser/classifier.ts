/// <reference lib="dom" />
import { ClassifierCore, ModelError, openModel, resizeToInput, topK, ttaName, type LabelScore, type ModelSpec, type TtaSetting } from '../core/index.ts';
import { decodeToRgba, type WebImage } from './decode.ts';
import { createWebRuntime, type WebBackend, type WebRuntime, type WebRuntimeOptions, type WebSession } from './runtime.ts';

export interface ClassifierOptions extends WebRuntimeOptions {
  /** 'auto' (default) uses WebGPU when the browser offers an adapter and wasm otherwise. */
  backend?: 'auto' | 'webgpu' | 'wasm';
  /** Ranked labels per prediction (default 3, at most the label count). */
  topK?: number;
  /** Largest width x height decoded (default 50 million pixels). */
  maxPixels?: number;
  /** Receives the one line explaining a fallback from WebGPU to wasm. */
  log?: (line: string) => void;
  /** A runtime to use instead of onnxruntime-web with `wasmPaths` and `threads` (tests, workers). */
  runtime?: WebRuntime;
  /** Test-time augmentation: 'off' (default), 'mirror' or a view count; the views run in the photo's one inference call. */
  tta?: TtaSetting;
}

export interface WebPrediction extends LabelScore {
  /** The best labels, best first; topK[0] repeats label and score. */
  topK: LabelScore[];
  /** Milliseconds for this image: decode, resize and inference. */
  ms: number;
  /** Milliseconds inside ONNX Runtime alone. */
  inferenceMs: number;
}

export interface WebClassifier {
  readonly labels: readonly string[];
  readonly spec: ModelSpec;
  /** What runs the model: 'WebGPU', 'wasm SIMD' (one thread) or 'wasm threads'. */
  readonly backend: WebBackend;
  readonly threads: number;
  /** The test-time augmentation each photo gets: 'off', 'mirror' or a view count. */
  readonly tta: string;
  classify(image: WebImage): Promise<WebPrediction>;
  release(): Promise<void>;
}

async function fetchModel(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new ModelError(url, `cannot download the model (${(error as Error).message})`);
  }
  if (!response.ok) throw new ModelError(url, `cannot download the model (HTTP ${response.status} ${response.statusText})`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Downloads a footwear ONNX model, reads its labels and preprocessing from the model's own
 * metadata, and opens it with onnxruntime-web on the best backend this browser offers: the same
 * loader, checks and batch code as Node (src/core), with the canvas decoding instead of sharp.
 */
export async function createClassifier(modelUrl: string | URL, options: ClassifierOptions = {}): Promise<WebClassifier> {
  const url = String(modelUrl);
  if (options.topK !== undefined && (!Number.isInteger(options.topK) || options.topK < 1)) {
    throw new RangeError(`topK should be a positive integer, got ${options.topK}`);
  }
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new RangeError(`threads should be a positive integer, got ${options.threads}`);
  }
  const tta = ttaName(options.tta ?? 'off'); // a bad setting fails before the download
  const bytes = await fetchModel(url);
  const runtime = options.runtime ?? createWebRuntime({ wasmPaths: options.wasmPaths, threads: options.threads });
  const { session, spec } = await openModel(bytes, url, { ep: options.backend ?? 'auto', runtime, log: options.log });
  const core = new ClassifierCore(session, spec, url, { tta: options.tta ?? 'off' });
  const web = session as WebSession;
  const k = core.topKFor(options.topK);
  const { preprocess, labels } = spec;
  const input = new Float32Array(core.inputSize);
  // `input` is shared, so photos go one at a time from decoding to their result: callers queue here.
  let queue: Promise<unknown> = Promise.resolve();

  const classifyNow = async (image: WebImage): Promise<WebPrediction> => {
    const start = performance.now();
    const rgba = await decodeToRgba(image, preprocess.background, options.maxPixels);
    resizeToInput(rgba.data, rgba.width, rgba.height, 4, preprocess, input);
    const inferStart = performance.now();
    const probs = await core.classifyPacked(input, 1);
    const end = performance.now();
    const ranked = topK(probs, labels, k);
    return { label: ranked[0].label, score: ranked[0].score, topK: ranked, ms: end - start, inferenceMs: end - inferStart };
  };

  return {
    labels,
    spec,
    backend: web.backend,
    threads: web.threads,
    tta,
    classify(image: WebImage): Promise<WebPrediction> {
      const job = queue.then(() => classifyNow(image));
      queue = job.catch(() => {});
      return job;
    },
    release: () => core.release(),
  };
}
