import { UserError } from './errors.ts';

// The one seam between footwear and an ONNX Runtime build: onnxruntime-node in Node (src/node),
// onnxruntime-web in browsers (src/browser), and whatever else implements these interfaces.
// Nothing here may mention Node types (Buffer, fs, paths). Runtimes are picked from a priority registry, as onnxruntime's
// js/common picks backends: the first one that loads wins, and when none does the error lists
// every runtime's reason at once.

export interface RuntimeSessionOptions {
  /** Execution providers in order of preference, e.g. ['cuda'] or ['cpu']. */
  executionProviders: string[];
  /** Threads for one operator (ONNX Runtime's intraOpNumThreads); the runtime's default if unset. */
  intraOpNumThreads?: number;
  /**
   * false: ONNX Runtime's pool threads sleep as soon as a run's work is done instead of spinning
   * for more. Spinning pays when runs come back to back (a folder of photos); between a server's
   * small batches it burns CPU that request handling and decoding need.
   */
  spinWait?: boolean;
}

export interface OnnxOutput {
  data: Float32Array;
  dims: number[];
}

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The provider the session was created with, e.g. 'cuda' or 'cpu'. */
  readonly executionProvider: string;
  /**
   * Feeds `input` (float32, shaped `dims`) to the model's first input and returns its first
   * output. Works for any single-input float model, classifier or feature backbone. The caller
   * may reuse `input` once the promise settles.
   */
  run(input: Float32Array, dims: readonly number[]): Promise<OnnxOutput>;
  /** Like run, fetching the named outputs (intermediate tensors included, when the graph exposes them). */
  runOutputs(input: Float32Array, dims: readonly number[], names: readonly string[]): Promise<Record<string, OnnxOutput>>;
  release(): Promise<void>;
}

export interface InferenceRuntime {
  readonly name: string;
  /** Its accelerated and its CPU provider (see providers.ts); onnxruntime-node's cuda and cpu if unset. */
  readonly devices?: { accelerator: string; cpu: string };
  /** Why `provider` cannot work here, or undefined when it may (creating a session decides). */
  unavailableReason?(provider: string): Promise<string | undefined>;
  createSession(model: Uint8Array, options: RuntimeSessionOptions): Promise<OnnxSession>;
}

/** No registered runtime could be loaded; `failures` holds each one's reason. */
export class RuntimeError extends UserError {
  override name = 'RuntimeError';
  constructor(readonly failures: { runtime: string; reason: string }[]) {
    super(
      failures.length === 0
        ? 'no ONNX runtime is registered'
        : `no ONNX runtime could be loaded: ${failures.map((f) => `[${f.runtime}] ${f.reason}`).join('; ')}`,
    );
  }
}

interface Registration {
  name: string;
  priority: number;
  load: () => Promise<InferenceRuntime>;
  loaded?: Promise<InferenceRuntime>;
}

const registry = new Map<string, Registration>();

/**
 * Makes a runtime available under `name`. `load` runs on first use only, so a runtime whose
 * native or wasm binaries are missing costs nothing until chosen and then fails with a reason
 * instead of crashing the import. Registering a name again replaces it.
 */
export function registerRuntime(name: string, load: () => Promise<InferenceRuntime>, priority = 0): void {
  registry.set(name, { name, priority, load });
}

export function registeredRuntimes(): string[] {
  return [...registry.values()].sort((a, b) => b.priority - a.priority).map((r) => r.name);
}

/**
 * Loads the highest-priority runtime that works, restricted to `names` when given (in the
 * registry's order, not the caller's). Throws one RuntimeError listing every failure.
 */
export async function resolveRuntime(names?: readonly string[]): Promise<InferenceRuntime> {
  const failures: { runtime: string; reason: string }[] = [];
  for (const name of names ?? []) {
    if (!registry.has(name)) failures.push({ runtime: name, reason: `not registered (known: ${registeredRuntimes().join(', ') || 'none'})` });
  }
  for (const name of registeredRuntimes()) {
    if (names && !names.includes(name)) continue;
    const entry = registry.get(name) as Registration;
    entry.loaded ??= entry.load();
    try {
      return await entry.loaded;
    } catch (error) {
      entry.loaded = undefined; // let a later call retry, e.g. after the user installs something
      failures.push({ runtime: name, reason: firstLine(error) });
    }
  }
  throw new RuntimeError(failures);
}

/** The first line of an error's message: native libraries put pages of detail after it. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim();
}
