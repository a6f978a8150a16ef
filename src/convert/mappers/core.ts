import { readNumber } from '../config.ts';
import { graphDims } from '../graph.ts';
import { registerMapper } from '../registry.ts';
import { applyActivation, layerActivation } from './activations.ts';

registerMapper('InputLayer', (ctx) => {
  if (ctx.layer.dtype !== 'float32') ctx.unsupported(`input dtype ${ctx.layer.dtype} is not supported (float32 only)`);
  ctx.setOutput(ctx.graph.addInput(ctx.settings.inputName, graphDims(ctx.outputShape, ctx.settings.inputName)));
});

// Layers that only act while training are the identity at inference, so they emit nothing.
for (const className of ['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']) {
  registerMapper(className, (ctx) => ctx.setOutput(ctx.input(0)));
}

registerMapper('Dense', (ctx) => {
  const kernel = ctx.requireWeight('kernel');
  const [inFeatures, units] = kernel.shape;
  const graph = ctx.graph;
  const weight = graph.addFloatInitializer(`${ctx.name}/kernel`, kernel.data, [inFeatures, units]);
  const biasValue = ctx.weight('bias');
  const bias = biasValue ? graph.addFloatInitializer(`${ctx.name}/bias`, biasValue.data, [units]) : undefined;
  const rank = ctx.inputShapes[0].length;
  const activation = layerActivation(ctx);
  let y: string;
  if (rank === 2) {
    y = graph.addNode('Gemm', bias ? [ctx.input(0), weight, bias] : [ctx.input(0), weight], { name: `${ctx.name}/Gemm` });
    const node = graph.producer(y);
    if (node && activation === 'linear') ctx.offerFold({ kind: 'affine', node, weight, bias, channels: units, channelAxis: 1 });
  } else {
    // Keras applies Dense to the last axis of any rank; MatMul broadcasts the same way.
    y = graph.addNode('MatMul', [ctx.input(0, 'native'), weight], { name: `${ctx.name}/MatMul` });
    if (bias) y = graph.addNode('Add', [y, bias], { name: `${ctx.name}/Add` });
  }
  ctx.setOutput(applyActivation(ctx, activation, y));
});

registerMapper('Rescaling', (ctx) => {
  const scale = readNumber(ctx, 'scale', 1);
  const offset = readNumber(ctx, 'offset', 0);
  let y = ctx.input(0);
  if (scale !== 1) y = ctx.graph.addNode('Mul', [y, ctx.graph.scalar(scale)], { name: `${ctx.name}/Mul` });
  if (offset !== 0) y = ctx.graph.addNode('Add', [y, ctx.graph.scalar(offset)], { name: `${ctx.name}/Add` });
  ctx.setOutput(y);
});
