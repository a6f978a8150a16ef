export { augmentedView } from './views.ts';
export { augmentBatch } from './batch.ts';
export { mirror } from './mirror.ts';
export { backgroundMask } from './background.ts';
export type { InputImage } from './image.ts';
