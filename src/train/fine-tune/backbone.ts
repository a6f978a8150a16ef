import type * as tfjs from '@tensorflow/tfjs';
import { atInputSize, defaultFeatureLayers, type Tf } from '../../backbone/index.ts';
import { loadBackbone as loadChecked } from '../backbone.ts';
import type { TrainOptions } from '../options.ts';

/**
 * The backbone as both trainers use it: loaded, and with `inputSize` rebuilt for that input
 * (pruned to the layers the feature layers need). The spec's preprocess height and width are read
 * from the model's input, so inference and the browser follow the size without further settings.
 */
export async function loadBackbone(tf: Tf, options: Pick<TrainOptions, 'backbone' | 'featureLayers' | 'inputSize'>): Promise<tfjs.LayersModel> {
  const base = await loadChecked(tf, options.backbone);
  if (options.inputSize === undefined) return base;
  const featureLayers = options.featureLayers ?? defaultFeatureLayers(base, options.backbone);
  return atInputSize(tf, base, options.inputSize, featureLayers);
}
