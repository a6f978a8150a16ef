import { CUDA_INSTALL_HINT, ProviderError, cudaFallbackLine, resolveProviders, type EpChoice, type Log } from './providers.ts';
import { firstLine, resolveRuntime, type OnnxSession } from './runtime.ts';

export interface OpenSessionOptions {
  /** Device choice; 'auto' (default) uses CUDA when it works and the CPU otherwise. */
  ep?: EpChoice;
  /** ONNX Runtime intra-op threads; the runtime's default (one per physical core) if unset. */
  threads?: number;
  /** false: ONNX Runtime's threads sleep rather than spin once a run is done (see RuntimeSessionOptions). */
  spinWait?: boolean;
  /** Receives the one line that explains a fallback; nothing is printed otherwise. */
  log?: Log;
  /** Runtime names to choose from (see registerRuntime); all registered ones by default. */
  runtimes?: readonly string[];
}

/**
 * Creates a session for any ONNX model on the best available runtime and execution provider.
 * Training uses this directly for its feature backbone; loadModel builds classifiers on it.
 * `session.executionProvider` tells which provider was used.
 */
export async function openSession(model: Uint8Array, options: OpenSessionOptions = {}): Promise<OnnxSession> {
  const { ep = 'auto', threads, log = () => {} } = options;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new RangeError(`threads should be a positive integer, got ${threads}`);
  }
  const runtime = await resolveRuntime(options.runtimes);
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
    if (first !== 'cuda') throw error;
    if (!fallback) throw new ProviderError('cuda', `CUDA could not start (${firstLine(error)})`, CUDA_INSTALL_HINT);
    // Log only once the CPU session works: if it fails too, the model is at fault, not CUDA.
    const session = await create(fallback);
    log(cudaFallbackLine(firstLine(error)));
    return session;
  }
}
