/// <reference lib="dom" />
import type * as Ort from 'onnxruntime-web';
import { OrtSession, type InferenceRuntime, type RuntimeSessionOptions } from '../core/index.ts';

// onnxruntime-web behind the same runtime interface as onnxruntime-node. Each flavour is its own
// dynamic import so a page downloads only the build it runs: WebGPU needs ORT's asyncify wasm
// (~27 MB), while CPU-only browsers get the plain SIMD build (~14 MB). ORT 1.30 ships SIMD builds
// only, so every wasm session is SIMD; threads depend on cross-origin isolation.

export type OrtModule = typeof Ort;
export type WebProvider = 'webgpu' | 'wasm';
/** What actually ran, as shown to people: GPU, or the wasm CPU build with one or more threads. */
export type WebBackend = 'WebGPU' | 'wasm SIMD' | 'wasm threads';

export interface WebRuntimeOptions {
  /**
   * URL of the folder (ending in '/') that serves ORT's ort-wasm-simd-threaded*.{mjs,wasm} files.
   * ORT resolves them next to its own script when unset, which suits apps whose bundler copies them.
   */
  wasmPaths?: string;
  /**
   * wasm threads. Default: min(4, logical cores) when the page is cross-origin isolated (threads
   * need SharedArrayBuffer), else 1. ORT fixes the count when its wasm first loads, so the first
   * session of a page decides it.
   */
  threads?: number;
  /**
   * Imports the onnxruntime-web module for a provider; default: its WebGPU or wasm build, as a
   * page needs them. Node programs (benchmarks) pass onnxruntime-web's Node build here.
   */
  importOrt?: (provider: WebProvider) => Promise<OrtModule>;
}

export function defaultThreads(): number {
  if (!globalThis.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, globalThis.navigator?.hardwareConcurrency ?? 1));
}

export function backendName(provider: string, threads: number): WebBackend {
  if (provider === 'webgpu') return 'WebGPU';
  return threads > 1 ? 'wasm threads' : 'wasm SIMD';
}

export class WebSession extends OrtSession {
  constructor(
    ort: OrtModule,
    session: Ort.InferenceSession,
    override readonly executionProvider: WebProvider,
    /** wasm threads ORT actually started with (it drops to 1 without cross-origin isolation). */
    readonly threads: number,
  ) {
    // The tensor must come from the same ORT module as the session: each flavour is a separate copy.
    super(session, (data, dims) => new ort.Tensor('float32', data, dims), executionProvider);
  }

  get backend(): WebBackend {
    return backendName(this.executionProvider, this.threads);
  }
}

/** 'cpu' is what Node-minded callers ask for; in a browser that is wasm. */
function toWebProvider(provider: string): WebProvider | undefined {
  if (provider === 'webgpu') return 'webgpu';
  if (provider === 'wasm' || provider === 'cpu') return 'wasm';
  return undefined;
}

async function webgpuUnavailable(): Promise<string | undefined> {
  const gpu = globalThis.navigator?.gpu;
  if (!gpu) return 'this browser has no WebGPU (navigator.gpu is missing)';
  try {
    // navigator.gpu exists in browsers that then refuse an adapter (blocklisted GPU, --disable-gpu).
    if (!(await gpu.requestAdapter())) return 'the browser offers no WebGPU adapter';
  } catch (error) {
    return `requesting a WebGPU adapter failed (${(error as Error).message})`;
  }
  return undefined;
}

export interface WebRuntime extends InferenceRuntime {
  createSession(model: Uint8Array, options: RuntimeSessionOptions): Promise<WebSession>;
}

export function createWebRuntime(options: WebRuntimeOptions = {}): WebRuntime {
  const modules = new Map<WebProvider, Promise<OrtModule>>();
  let webgpuReason: Promise<string | undefined> | undefined;

  const load = (provider: WebProvider, threads: number): Promise<OrtModule> => {
    let module = modules.get(provider);
    if (!module) {
      const importOrt = options.importOrt ?? ((p: WebProvider) => (p === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm')));
      module = importOrt(provider).then((ort) => {
        ort.env.logLevel = 'error';
        ort.env.wasm.numThreads = threads;
        if (options.wasmPaths) ort.env.wasm.wasmPaths = options.wasmPaths;
        return ort;
      });
      modules.set(provider, module);
    }
    return module;
  };

  return {
    name: 'onnxruntime-web',
    devices: { accelerator: 'webgpu', cpu: 'wasm' },

    async unavailableReason(provider: string): Promise<string | undefined> {
      const web = toWebProvider(provider);
      if (!web) return `${provider} does not exist in a browser (use webgpu or wasm)`;
      if (typeof WebAssembly === 'undefined') return 'this browser has no WebAssembly';
      if (web === 'webgpu') return (webgpuReason ??= webgpuUnavailable());
      return undefined;
    },

    async createSession(model: Uint8Array, sessionOptions: RuntimeSessionOptions): Promise<WebSession> {
      const requested = sessionOptions.executionProviders[0] ?? 'wasm';
      const provider = toWebProvider(requested);
      if (!provider) throw new Error(`${requested} does not exist in a browser (use webgpu or wasm)`);
      const threads = sessionOptions.intraOpNumThreads ?? options.threads ?? defaultThreads();
      if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads should be a positive integer, got ${threads}`);
      const ort = await load(provider, threads);
      const session = await ort.InferenceSession.create(model, { executionProviders: [provider], graphOptimizationLevel: 'all' });
      return new WebSession(ort, session, provider, ort.env.wasm.numThreads ?? threads);
    },
  };
}
