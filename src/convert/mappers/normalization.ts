import { readBoolean, readNumber } from '../config.ts';
import type { GraphBuilder } from '../graph.ts';
import { physicalAxis } from '../layout.ts';
import { registerMapper, type Foldable, type LayerContext } from '../registry.ts';

/** Inference-time BatchNorm as y = x * scale + shift, per channel (computed in float64). */
function affineParameters(ctx: LayerContext): { scale: Float32Array; shift: Float32Array } {
  const epsilon = readNumber(ctx, 'epsilon', 1e-3);
  const mean = ctx.requireWeight('moving_mean').data;
  const variance = ctx.requireWeight('moving_variance').data;
  const gamma = readBoolean(ctx, 'scale', true) ? ctx.requireWeight('gamma').data : undefined;
  const beta = readBoolean(ctx, 'center', true) ? ctx.requireWeight('beta').data : undefined;
  const scale = new Float32Array(mean.length);
  const shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    const s = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + epsilon);
    scale[c] = s;
    shift[c] = (beta ? beta[c] : 0) - mean[c] * s;
  }
  return { scale, shift };
}

/** Rescales an affine node's output channels in place: W' = W * scale, b' = b * scale + shift. */
function foldInto(graph: GraphBuilder, fold: Extract<Foldable, { kind: 'affine' }>, scale: Float32Array, shift: Float32Array, name: string): void {
  const weight = graph.floatData(fold.weight);
  const dims = graph.initializerDims(fold.weight);
  const inner = dims.slice(fold.channelAxis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < weight.length; i++) weight[i] *= scale[Math.floor(i / inner) % fold.channels];
  if (fold.bias) {
    const bias = graph.floatData(fold.bias);
    for (let c = 0; c < fold.channels; c++) bias[c] = bias[c] * scale[c] + shift[c];
  } else {
    fold.bias = graph.addFloatInitializer(`${name}/folded_bias`, shift.slice(), [fold.channels]);
    fold.node.input = [...(fold.node.input ?? []), fold.bias];
  }
}

registerMapper('BatchNormalization', (ctx) => {
  const rank = ctx.inputShapes[0].length;
  const rawAxis = ctx.config.axis;
  const axis = Array.isArray(rawAxis) && rawAxis.length === 1 ? rawAxis[0] : (rawAxis ?? -1);
  if (typeof axis !== 'number') return ctx.unsupported(`normalizing over axes ${JSON.stringify(rawAxis)} is not supported`);
  const nativeAxis = axis < 0 ? axis + rank : axis;
  if (nativeAxis < 1 || nativeAxis >= rank) return ctx.unsupported(`axis ${axis} is not a feature axis of a rank-${rank} input`);
  const { scale, shift } = affineParameters(ctx);

  const fold = ctx.foldable(0);
  if (fold?.kind === 'affine' && nativeAxis === rank - 1 && fold.channels === scale.length) {
    foldInto(ctx.graph, fold, scale, shift, ctx.name);
    ctx.setOutput(ctx.input(0));
    // Folded, the node is still an activation-free affine map, so a further BatchNorm may fold too.
    ctx.offerFold(fold);
    return;
  }

  // Standalone: per-channel constants shaped to broadcast along the channel axis of x's layout.
  const x = ctx.input(0);
  const { layout } = ctx.graph.info(x);
  const position = physicalAxis(nativeAxis, rank, layout);
  const dims = [scale.length, ...Array<number>(rank - 1 - position).fill(1)];
  const scaled = ctx.graph.addNode('Mul', [x, ctx.graph.addFloatInitializer(`${ctx.name}/scale`, scale, dims)], { name: `${ctx.name}/Mul` });
  ctx.setOutput(ctx.graph.addNode('Add', [scaled, ctx.graph.addFloatInitializer(`${ctx.name}/shift`, shift, dims)], { name: `${ctx.name}/Add` }));
});
