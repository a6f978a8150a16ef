export { loadTf, type Tf, type TfRuntime } from './tf.ts';
export { loadBaseModel, truncate } from './mobilenet.ts';
export { saveTfjsModel, readTfjsMetadata, TFJS_DIR } from './io.ts';
export { buildFeatureModel, defaultFeatureLayers, MOBILENET_FEATURES } from './features.ts';
export { atInputSize, checkInputSize, rebuildSubgraph, INPUT_SIZE_LIMITS, type SubgraphOptions } from './subgraph.ts';
