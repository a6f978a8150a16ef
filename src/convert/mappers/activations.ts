import { readNumber, readOptionalNumber, readString } from '../config.ts';
import type { Attribute, GraphBuilder } from '../graph.ts';
import { physicalAxis } from '../layout.ts';
import { registerMapper, type LayerContext } from '../registry.ts';

/** Opset 13 Clip takes its bounds as inputs; an empty name leaves that side open. */
export function clip(graph: GraphBuilder, x: string, min: number | undefined, max: number | undefined, name: string): string {
  const bounds = [min === undefined ? '' : graph.scalar(min), max === undefined ? '' : graph.scalar(max)];
  while (bounds.at(-1) === '') bounds.pop();
  return graph.addNode('Clip', [x, ...bounds], { name });
}

/** Softmax-like ops on the Keras `axis`, wherever that axis sits in the tensor's layout. */
function alongAxis(ctx: LayerContext, opType: string, x: string, axis: number): string {
  const { layout, rank } = ctx.graph.info(x);
  return ctx.graph.addNode(opType, [x], { name: `${ctx.name}/${opType}`, attributes: { axis: { int: physicalAxis(axis, rank, layout) } } });
}

/**
 * Emits a Keras activation (by its TF.js name, as in a layer's `activation` config) on `x`.
 * Elementwise ones work in any layout, so they never cause a transpose.
 */
export function applyActivation(ctx: LayerContext, activation: string, x: string): string {
  const graph = ctx.graph;
  const op = (opType: string, inputs: string[], attributes: Record<string, Attribute> = {}) =>
    graph.addNode(opType, inputs, { name: `${ctx.name}/${opType}`, attributes });
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return op('Relu', [x]);
    case 'relu6':
      return clip(graph, x, 0, 6, `${ctx.name}/relu6`);
    case 'sigmoid':
      return op('Sigmoid', [x]);
    case 'tanh':
      return op('Tanh', [x]);
    case 'elu':
      return op('Elu', [x], { alpha: { float: 1 } });
    case 'selu':
      // ONNX's default alpha/gamma are TF's SELU constants.
      return op('Selu', [x]);
    case 'softplus':
      return op('Softplus', [x]);
    case 'softsign':
      return op('Softsign', [x]);
    case 'hardSigmoid':
      // TF.js: clip(0.2 * x + 0.5, 0, 1), which are ONNX's defaults spelled out.
      return op('HardSigmoid', [x], { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    case 'softmax':
      return alongAxis(ctx, 'Softmax', x, -1);
    case 'logSoftmax':
      return alongAxis(ctx, 'LogSoftmax', x, -1);
    case 'swish':
      return op('Mul', [x, op('Sigmoid', [x])]);
    case 'mish':
      return op('Mul', [x, op('Tanh', [op('Softplus', [x])])]);
    case 'gelu': {
      // The exact (erf) form TF.js uses: x * 0.5 * (1 + erf(x / sqrt(2))).
      const erf = op('Erf', [op('Div', [x, graph.scalar(Math.SQRT2)])]);
      return op('Mul', [x, op('Mul', [op('Add', [erf, graph.scalar(1)]), graph.scalar(0.5)])]);
    }
    default:
      return ctx.unsupported(`activation "${activation}" is not supported`);
  }
}

/** The `activation` config every Conv/Dense-like layer carries. */
export function layerActivation(ctx: LayerContext): string {
  return readString(ctx, 'activation', 'linear');
}

registerMapper('Activation', (ctx) => {
  ctx.setOutput(applyActivation(ctx, layerActivation(ctx), ctx.input(0)));
});

registerMapper('ReLU', (ctx) => {
  // TF.js only knows maxValue; negativeSlope and threshold appear in configs written by Keras.
  const maxValue = readOptionalNumber(ctx, 'maxValue');
  const slope = readNumber(ctx, 'negativeSlope', 0);
  if (readNumber(ctx, 'threshold', 0) !== 0) ctx.unsupported('a non-zero threshold is not supported');
  let y = ctx.input(0);
  if (slope !== 0) {
    y = ctx.graph.addNode('LeakyRelu', [y], { name: `${ctx.name}/LeakyRelu`, attributes: { alpha: { float: slope } } });
    if (maxValue !== undefined) y = clip(ctx.graph, y, undefined, maxValue, `${ctx.name}/Clip`);
  } else if (maxValue !== undefined) {
    // A single Clip, which onnxruntime fuses into the preceding Conv.
    y = clip(ctx.graph, y, 0, maxValue, `${ctx.name}/Clip`);
  } else {
    y = ctx.graph.addNode('Relu', [y], { name: `${ctx.name}/Relu` });
  }
  ctx.setOutput(y);
});

registerMapper('LeakyReLU', (ctx) => {
  const alpha = readNumber(ctx, 'alpha', 0.3);
  ctx.setOutput(ctx.graph.addNode('LeakyRelu', [ctx.input(0)], { name: `${ctx.name}/LeakyRelu`, attributes: { alpha: { float: alpha } } }));
});

registerMapper('ELU', (ctx) => {
  const alpha = readNumber(ctx, 'alpha', 1);
  ctx.setOutput(ctx.graph.addNode('Elu', [ctx.input(0)], { name: `${ctx.name}/Elu`, attributes: { alpha: { float: alpha } } }));
});

registerMapper('Softmax', (ctx) => {
  // TF.js's Softmax layer defaults to axis 1, not Keras's -1, and may store it as [axis].
  const raw = ctx.config.axis;
  const axis = Array.isArray(raw) && raw.length === 1 ? raw[0] : (raw ?? 1);
  if (typeof axis !== 'number') return ctx.unsupported(`softmax over axes ${JSON.stringify(raw)} is not supported`);
  ctx.setOutput(alongAxis(ctx, 'Softmax', ctx.input(0), axis));
});
