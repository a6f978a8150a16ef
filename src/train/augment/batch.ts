import type { PreprocessSpec } from '../../core/index.ts';
import type { Sample } from '../../data/index.ts';
import { augmentedView } from './views.ts';

/** View `view` (see views.ts) of each image laid end to end in `inputs`, in the same layout. */
export function augmentBatch(inputs: Float32Array, samples: readonly Sample[], spec: PreprocessSpec, view: number, seed: number): Float32Array {
  const pixels = spec.height * spec.width * 3;
  const out = new Float32Array(inputs.length);
  samples.forEach((sample, i) => {
    const image = { data: inputs.subarray(i * pixels, (i + 1) * pixels), height: spec.height, width: spec.width, range: spec.range };
    out.set(augmentedView(image, view, { file: sample.file, seed }).data, i * pixels);
  });
  return out;
}
