import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../../backbone/index.ts';

// Adam with parameter groups: the head and the unfrozen blocks step with their own learning
// rates, sharing one step count. Why not one optimizer and scaled-down backbone gradients: Adam
// divides each step by the running RMS of that parameter's gradient, so a gradient scaled by 0.1
// gives the same step (scale invariance, up to epsilon); only a learning rate per group lowers
// the backbone's steps. Why not tf.train.adam twice: its state can be saved, but setWeights
// rebuilds beta^t with pow() where training multiplies step by step, so a resumed run drifts in
// the last bits from an uninterrupted one; here the bias corrections are computed from the step
// count alone, and a resumed run repeats an uninterrupted one exactly.
// The update is Keras's (and tf.train.adam's): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + epsilon).

export interface ParamGroup {
  learningRate: number;
  variables: tfjs.Variable[];
}

export interface AdamState {
  step: number;
  /** First and second moments, one per variable in group order. */
  m: tfjs.Tensor[];
  v: tfjs.Tensor[];
}

const BETA1 = 0.9;
const BETA2 = 0.999;
/** Keras's and TF.js's default epsilon for float32. */
const EPSILON = 1e-7;

export class GroupedAdam {
  private step = 0;
  private readonly m: tfjs.Variable[];
  private readonly v: tfjs.Variable[];
  private readonly rates: number[];
  readonly variables: tfjs.Variable[];

  constructor(
    private readonly tf: Tf,
    groups: ParamGroup[],
  ) {
    this.variables = groups.flatMap((g) => g.variables);
    this.rates = groups.flatMap((g) => g.variables.map(() => g.learningRate));
    this.m = this.variables.map((w) => tf.variable(tf.zerosLike(w), false));
    this.v = this.variables.map((w) => tf.variable(tf.zerosLike(w), false));
  }

  /** One update from `gradients`, in the order of `variables`. */
  apply(gradients: tfjs.Tensor[]): void {
    const tf = this.tf;
    this.step++;
    const correction1 = 1 - BETA1 ** this.step;
    const correction2 = 1 - BETA2 ** this.step;
    tf.tidy(() => {
      gradients.forEach((g, i) => {
        const m = tf.add(tf.mul(this.m[i], BETA1), tf.mul(g, 1 - BETA1));
        const v = tf.add(tf.mul(this.v[i], BETA2), tf.mul(tf.square(g), 1 - BETA2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), EPSILON));
        this.variables[i].assign(tf.sub(this.variables[i], tf.mul(update, this.rates[i])));
      });
    });
  }

  state(): AdamState {
    return { step: this.step, m: this.m, v: this.v };
  }

  restore(state: { step: number; m: Float32Array[]; v: Float32Array[] }): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) {
      throw new Error(`optimizer state has ${state.m.length} moments, the model ${this.m.length} variables`);
    }
    this.step = state.step;
    this.tf.tidy(() => {
      state.m.forEach((values, i) => this.m[i].assign(this.tf.tensor(values, this.m[i].shape)));
      state.v.forEach((values, i) => this.v[i].assign(this.tf.tensor(values, this.v[i].shape)));
    });
  }

  dispose(): void {
    this.tf.dispose([...this.m, ...this.v]);
  }
}
