import type * as tfjs from '@tensorflow/tfjs';

/** The TF.js API as loaded (tfjs, tfjs-node or tfjs-node-gpu share it); see loadTf in tf.ts. */
export type Tf = typeof tfjs;
