import { resolveRuntime, type InferenceRuntime } from './runtime.ts';

// Maps the user's device choice onto ONNX Runtime execution providers, as transformers.js maps
// its `device` option. Platform-neutral: what a runtime can actually offer is asked of the runtime
// (InferenceRuntime.unavailableReason), so a browser runtime can reuse this policy.

export const EP_CHOICES = ['auto', 'cpu', 'cuda'] as const;
export type EpChoice = (typeof EP_CHOICES)[number];

/**
 * onnxruntime-node ships without its CUDA binaries (they are too large for npm) and this project's
 * .npmrc skips the download, so a GPU user must opt in explicitly. ONNXRUNTIME_NODE_INSTALL wins
 * over the .npmrc setting, and `npm rebuild` reruns the package's install script.
 */
export const CUDA_INSTALL_HINT =
  // --ignore-scripts=false: this repository's .npmrc runs no install scripts by default.
  'install the CUDA provider with: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false ' +
  '(Linux x64 only; needs an NVIDIA driver with CUDA 12 and cuDNN 9), or run with --ep cpu';

/** A requested execution provider cannot run here; the message says why and what to do. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly provider: string,
    readonly reason: string,
    hint?: string,
  ) {
    super(`--ep ${provider}: ${reason}${hint ? `; ${hint}` : ''}`);
  }
}

export function parseEp(value: string): EpChoice {
  const choice = EP_CHOICES.find((c) => c === value.trim().toLowerCase());
  if (!choice) throw new RangeError(`--ep should be one of ${EP_CHOICES.join('|')}, got "${value}"`);
  return choice;
}

export type Log = (line: string) => void;

/** The providers to try, best first; each later entry is a fallback for the one before it. */
export interface ProviderPlan {
  choice: EpChoice;
  candidates: string[];
}

export interface ResolveProvidersOptions {
  /** The runtime to ask; the highest-priority registered one by default. */
  runtime?: InferenceRuntime;
  /** Receives the one line explaining why 'auto' dropped CUDA. */
  log?: Log;
}

/**
 * Decides which providers to try for `choice`, asking the runtime which ones cannot work here.
 * 'cuda' fails at once with the install hint when CUDA is missing; 'auto' drops CUDA and says
 * why in one line through `log`; the session creation (openSession) has the last word.
 */
export async function resolveProviders(choice: EpChoice, options: ResolveProvidersOptions = {}): Promise<ProviderPlan> {
  const { log = () => {} } = options;
  if (choice === 'cpu') return { choice, candidates: ['cpu'] };
  const runtime = options.runtime ?? (await resolveRuntime());
  const reason = await runtime.unavailableReason?.('cuda');
  if (reason === undefined) return { choice, candidates: choice === 'auto' ? ['cuda', 'cpu'] : ['cuda'] };
  if (choice === 'cuda') throw new ProviderError('cuda', `CUDA is not available (${reason})`, CUDA_INSTALL_HINT);
  log(cudaFallbackLine(reason));
  return { choice, candidates: ['cpu'] };
}

export function cudaFallbackLine(reason: string): string {
  return `--ep auto: using CPU because CUDA is not available (${reason})`;
}
