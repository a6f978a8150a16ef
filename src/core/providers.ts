import { UserError } from './errors.ts';
import { resolveRuntime, type InferenceRuntime } from './runtime.ts';

// Maps the user's device choice onto ONNX Runtime execution providers, in one table for every
// runtime, as transformers.js maps its `device` option. Each runtime names its accelerator and
// its CPU provider (onnxruntime-node: cuda and cpu; onnxruntime-web: webgpu and wasm); what a
// runtime can actually offer here is asked of the runtime (InferenceRuntime.unavailableReason).

/** The choices a Node command line offers; a browser page also takes 'webgpu' and 'wasm'. */
export const EP_CHOICES = ['auto', 'cpu', 'cuda'] as const;
export type EpChoice = (typeof EP_CHOICES)[number] | 'webgpu' | 'wasm';

/** Where each accelerated provider falls back to when it cannot start. */
export const FALLBACKS: Readonly<Record<string, string>> = { cuda: 'cpu', webgpu: 'wasm' };

/** The runtime's accelerator and CPU provider, when it does not say (onnxruntime-node's). */
const NODE_DEVICES = { accelerator: 'cuda', cpu: 'cpu' } as const;

const DISPLAY: Readonly<Record<string, string>> = { cuda: 'CUDA', cpu: 'CPU', webgpu: 'WebGPU', wasm: 'wasm' };
const display = (provider: string) => DISPLAY[provider] ?? provider;

/**
 * onnxruntime-node ships without its CUDA binaries (they are too large for npm) and this project
 * skips the download at install, so a GPU user must opt in explicitly; `npm rebuild` reruns the
 * package's install script.
 */
export const CUDA_INSTALL_HINT =
  // --ignore-scripts=false: this repository's .npmrc runs no install scripts by default.
  'install the CUDA provider with: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false ' +
  '(Linux x64 only; needs an NVIDIA driver with CUDA 12 and cuDNN 9), or run with --ep cpu';

const HINTS: Readonly<Record<string, string>> = { cuda: CUDA_INSTALL_HINT };

/** A requested execution provider cannot run here; the message says why and what to do. */
export class ProviderError extends UserError {
  override name = 'ProviderError';
  constructor(
    readonly provider: string,
    readonly reason: string,
    hint: string | undefined = HINTS[provider],
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
  /** Receives the one line explaining why 'auto' dropped the accelerator. */
  log?: Log;
}

/**
 * Decides which providers to try for `choice`. Naming the accelerator fails at once, with its
 * install hint, when it is missing; 'auto' drops it and says why in one line through `log`; the
 * session creation (openSession) has the last word.
 */
export async function resolveProviders(choice: EpChoice, options: ResolveProvidersOptions = {}): Promise<ProviderPlan> {
  const { log = () => {} } = options;
  const runtime = options.runtime ?? (await resolveRuntime());
  const { accelerator, cpu } = runtime.devices ?? NODE_DEVICES;
  if (accelerator === cpu) {
    // One device and nothing to fall back to: a remote server (--runtime v2://) picks its own.
    if (choice === 'auto' || choice === cpu) return { choice, candidates: [cpu] };
    throw new ProviderError(choice, `${runtime.name} runs the model on whatever device its server chose; --ep applies to local runtimes (use --ep auto)`, '');
  }
  if (choice === 'cpu' || choice === cpu) return { choice, candidates: [cpu] };
  if (choice !== 'auto' && choice !== accelerator) throw new ProviderError(choice, `${runtime.name} has no ${display(choice)} provider (it offers ${accelerator} and ${cpu})`);
  const reason = await runtime.unavailableReason?.(accelerator);
  if (reason === undefined) return { choice, candidates: choice === 'auto' ? [accelerator, FALLBACKS[accelerator] ?? cpu] : [accelerator] };
  if (choice !== 'auto') throw new ProviderError(accelerator, `${display(accelerator)} is not available (${reason})`);
  log(fallbackLine(accelerator, cpu, reason));
  return { choice, candidates: [cpu] };
}

export function fallbackLine(accelerator: string, fallback: string, reason: string): string {
  return `--ep auto: using ${display(fallback)} because ${display(accelerator)} is not available (${reason})`;
}

/** What a failed start of `provider` is reported as, when nothing can stand in for it. */
export function cannotStart(provider: string, reason: string): ProviderError {
  return new ProviderError(provider, `${display(provider)} could not start (${reason})`);
}
