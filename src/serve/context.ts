import path from 'node:path';
import type { ModelSpec } from '../core/index.ts';
import { notReady, shuttingDown, type HttpError } from './http-error.ts';
import type { ServerMetrics } from './metrics.ts';
import type { ResolvedOptions } from './options.ts';
import type { Pipeline } from './pipeline.ts';

// What the routes share: options, metrics, and the serving state, which moves from loading to
// ready to draining. Routes ask it for the pipeline, and it answers 503 when there is none to use.

export interface LoadedModel {
  /** What responses call the model: its folder's name (never a full path, which would leak the host's layout). */
  name: string;
  spec: ModelSpec;
  executionProvider: string;
  pipeline: Pipeline;
  /** Workers with the model loaded right now; 0 after every worker died and none could restart. */
  liveWorkers: () => number;
  /** With --runtime v2://, the 503 to answer while the model's server is away; undefined while it serves. */
  unavailable?: () => HttpError | undefined;
}

export class ServeContext {
  draining = false;
  model?: LoadedModel;

  constructor(
    readonly options: ResolvedOptions,
    readonly metrics: ServerMetrics,
  ) {}

  get ready(): boolean {
    return this.whyNotServing() === undefined;
  }

  /** The 503 that explains why requests cannot be served now, or undefined when they can. */
  whyNotServing(): HttpError | undefined {
    if (this.draining) return shuttingDown();
    if (!this.model || this.model.liveWorkers() === 0) return notReady();
    return this.model.unavailable?.();
  }

  /** The loaded model, or the 503 that explains why there is none to use. */
  serving(): LoadedModel {
    const why = this.whyNotServing();
    if (why) throw why;
    return this.model as LoadedModel;
  }
}

/** The folder's name for DIR/model.onnx, the file's name without .onnx otherwise. */
export function modelName(modelPath: string): string {
  const base = path.basename(modelPath);
  return base === 'model.onnx' ? path.basename(path.dirname(modelPath)) : base.replace(/\.onnx$/i, '');
}
