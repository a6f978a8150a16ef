/// <reference lib="dom" />
import { topK, type LabelScore } from '../infer/prediction.ts';
import { SPEC_METADATA_KEY, SpecError, parseSpec, resizeRgb, toInputTensor, type ModelSpec } from '../spec/index.ts';
import { decodeToRgba, DEFAULT_MAX_PIXELS, type WebImage } from './decode.ts';
import { OnnxMetadataError, readModelMetadata } from './onnx-metadata.ts';
import { createWebRuntime, type WebBackend, type WebRuntime, type WebRuntimeOptions, type WebSession } from './web-runtime.ts';

/** The model cannot be used in this page; the message names the URL and the one reason. */
export class WebModelError extends Error {
  override name = 'WebModelError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: ${reason}`);
  }
}

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
  classify(image: WebImage): Promise<WebPrediction>;
  release(): Promise<void>;
}

async function fetchModel(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new WebModelError(url, `cannot download the model (${(error as Error).message})`);
  }
  if (!response.ok) throw new WebModelError(url, `cannot download the model (HTTP ${response.status} ${response.statusText})`);
  return new Uint8Array(await response.arrayBuffer());
}

function specFrom(bytes: Uint8Array, url: string): ModelSpec {
  let metadata;
  try {
    metadata = readModelMetadata(bytes);
  } catch (error) {
    if (error instanceof OnnxMetadataError) throw new WebModelError(url, error.message);
    throw error;
  }
  const json = metadata[SPEC_METADATA_KEY];
  if (json === undefined) {
    throw new WebModelError(url, `no "${SPEC_METADATA_KEY}" metadata, so its labels and preprocessing are unknown; export it with footwear`);
  }
  try {
    return parseSpec(json, url);
  } catch (error) {
    if (error instanceof SpecError) throw new WebModelError(url, error.message.replace(`${url}: `, ''));
    throw error;
  }
}

async function openSession(runtime: WebRuntime, bytes: Uint8Array, options: ClassifierOptions, url: string): Promise<WebSession> {
  const choice = options.backend ?? 'auto';
  const create = (provider: string) => runtime.createSession(bytes, { executionProviders: [provider] });
  const fail = (error: unknown): never => {
    throw new WebModelError(url, `ONNX Runtime cannot load it: ${(error as Error).message.split('\n')[0]}`);
  };
  if (choice !== 'wasm') {
    const reason = await runtime.unavailableReason?.('webgpu');
    if (reason !== undefined && choice === 'webgpu') throw new WebModelError(url, `WebGPU was requested but ${reason}`);
    if (reason === undefined) {
      try {
        return await create('webgpu');
      } catch (error) {
        if (choice === 'webgpu') fail(error);
        options.log?.(`using wasm because WebGPU could not start (${(error as Error).message.split('\n')[0]})`);
      }
    }
  }
  return create('wasm').catch(fail);
}

/**
 * One run on a blank image proves the graph matches its spec and yields probabilities, and it
 * warms the session up (wasm allocation, WebGPU shader compilation) so the first photo's time is
 * representative.
 */
async function check(session: WebSession, spec: ModelSpec, url: string): Promise<void> {
  if (session.inputNames[0] !== spec.inputName || session.outputNames[0] !== spec.outputName) {
    throw new WebModelError(url, `spec names input "${spec.inputName}" and output "${spec.outputName}" but the graph has "${session.inputNames[0]}" and "${session.outputNames[0]}"`);
  }
  const { height, width } = spec.preprocess;
  const output = await session.run(new Float32Array(height * width * 3), [1, height, width, 3]);
  const sum = output.data.reduce((a, b) => a + b, 0);
  if (output.data.length !== spec.labels.length || Math.abs(sum - 1) > 1e-3) {
    throw new WebModelError(url, `outputs ${output.data.length} scores summing to ${sum.toFixed(4)}; expected ${spec.labels.length} probabilities`);
  }
}

/**
 * Downloads a footwear ONNX model, reads its labels and preprocessing from the model's own
 * metadata, and opens it with onnxruntime-web on the best backend this browser offers.
 */
export async function createClassifier(modelUrl: string | URL, options: ClassifierOptions = {}): Promise<WebClassifier> {
  const url = String(modelUrl);
  const k = options.topK ?? 3;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topK should be a positive integer, got ${options.topK}`);
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new RangeError(`threads should be a positive integer, got ${options.threads}`);
  }
  const bytes = await fetchModel(url);
  const spec = specFrom(bytes, url);
  const runtime = options.runtime ?? createWebRuntime({ wasmPaths: options.wasmPaths, threads: options.threads });
  const session = await openSession(runtime, bytes, options, url);
  try {
    await check(session, spec, url);
  } catch (error) {
    await session.release();
    if (error instanceof WebModelError) throw error;
    throw new WebModelError(url, `rejects an input shaped as its spec describes: ${(error as Error).message.split('\n')[0]}`);
  }
  const { preprocess, labels } = spec;
  const dims = [1, preprocess.height, preprocess.width, 3];
  const input = new Float32Array(preprocess.height * preprocess.width * 3);
  // An ORT web session runs one inference at a time, and `input` is shared: callers queue here.
  let queue: Promise<unknown> = Promise.resolve();

  const classifyNow = async (image: WebImage): Promise<WebPrediction> => {
    const start = performance.now();
    const rgba = await decodeToRgba(image, preprocess.background, options.maxPixels ?? DEFAULT_MAX_PIXELS);
    toInputTensor(resizeRgb(rgba.data, rgba.width, rgba.height, 4, preprocess), preprocess, input);
    const inferStart = performance.now();
    const output = await session.run(input, dims);
    const end = performance.now();
    const ranked = topK(output.data, labels, Math.min(k, labels.length));
    return { label: ranked[0].label, score: ranked[0].score, topK: ranked, ms: end - start, inferenceMs: end - inferStart };
  };

  return {
    labels,
    spec,
    backend: session.backend,
    threads: session.threads,
    classify(image: WebImage): Promise<WebPrediction> {
      const job = queue.then(() => classifyNow(image));
      queue = job.catch(() => {});
      return job;
    },
    release: () => session.release(),
  };
}
