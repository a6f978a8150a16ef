import { cannotStart, fallbackLine, resolveProviders, type EpChoice, type Log } from './providers.ts';
import { firstLine, resolveRuntime, type InferenceRuntime, type OnnxSession } from './runtime.ts';

export interface OpenSessionOptions {
  /** Device choice; 'auto' (default) uses the runtime's accelerator when it works and its CPU provider otherwise. */
  ep?: EpChoice;
  /** ONNX Runtime intra-op threads; the runtime's default if unset. */
  threads?: number;
  /** false: ONNX Runtime's threads sleep rather than spin once a run is done (see RuntimeSessionOptions). */
  spinWait?: boolean;
  /** Receives the one line that explains a fallback; nothing is printed otherwise. */
  log?: Log;
  /** The runtime to use; else the best registered one, restricted to `runtimes` when given. */
  runtime?: InferenceRuntime;
  /** Runtime names to choose from (see registerRuntime); all registered ones by default. */
  runtimes?: readonly string[];
}

/**
 * Creates a session for any ONNX model on the best available runtime and execution provider,
 * falling back along the providers' table (cuda -> cpu, webgpu -> wasm) when the accelerator
 * fails to start. Every caller that runs ONNX (classifiers, training's backbone, convert's
 * verification, the quantiser, benchmarks) opens its sessions here.
 */
export async function openSession(model: Uint8Array, options: OpenSessionOptions = {}): Promise<OnnxSession> {
  const { ep = 'auto', threads, log = () => {} } = options;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new RangeError(`threads should be a positive integer, got ${threads}`);
  }
  const runtime = options.runtime ?? (await resolveRuntime(options.runtimes));
  const plan = await resolveProviders(ep, { runtime, log });
  const create = (provider: string) =>
    runtime.createSession(model, {
      executionProviders: [provider],
      ...(threads !== undefined && { intraOpNumThreads: threads }),
      ...(options.spinWait !== undefined && { spinWait: options.spinWait }),
    });

  const [first, fallback] = plan.candidates;
  try {
    return await create(first);
  } catch (error) {
    if (plan.candidates.length === 1 && first !== (runtime.devices?.cpu ?? 'cpu')) throw cannotStart(first, firstLine(error));
    if (!fallback) throw error;
    // Log only once the fallback session works: if it fails too, the model is at fault, not the device.
    const session = await create(fallback);
    log(fallbackLine(first, fallback, firstLine(error)));
    return session;
  }
}
