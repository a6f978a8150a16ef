import { readBoolean, readPair, readString, requireChannelsLast } from '../config.ts';
import type { Attribute } from '../graph.ts';
import { onnxPads, samePads } from '../padding.ts';
import { registerMapper, type LayerContext } from '../registry.ts';

/**
 * Max and average pooling on NCHW. TF's 'same' pooling pads like its convolutions and leaves the
 * padding out of averages, which is ONNX AveragePool's default (count_include_pad = 0); MaxPool
 * never picks padding.
 */
function pool(ctx: LayerContext, opType: 'MaxPool' | 'AveragePool'): void {
  requireChannelsLast(ctx);
  const kernel = readPair(ctx, 'poolSize', [2, 2]);
  const strides = readPair(ctx, 'strides', kernel);
  const padding = readString(ctx, 'padding', 'valid');
  const attributes: Record<string, Attribute> = { kernel_shape: { ints: kernel }, strides: { ints: strides } };
  if (padding === 'same') {
    const [, height, width] = ctx.inputShapes[0];
    const pads = samePads([height, width], kernel, strides, [1, 1]);
    attributes[pads ? 'pads' : 'auto_pad'] = pads ? { ints: onnxPads(pads) } : { string: 'SAME_UPPER' };
  } else if (padding !== 'valid') {
    ctx.unsupported(`padding "${padding}" is not supported`);
  }
  ctx.setOutput(ctx.graph.addNode(opType, [ctx.input(0, 'channelsFirst')], { name: `${ctx.name}/${opType}`, attributes }));
}

/** Global pooling to [N, C] (or [N, 1, 1, C] with keepDims), via ONNX's NCHW global pools. */
function globalPool(ctx: LayerContext, opType: 'GlobalAveragePool' | 'GlobalMaxPool'): void {
  requireChannelsLast(ctx);
  const pooled = ctx.graph.addNode(opType, [ctx.input(0, 'channelsFirst')], { name: `${ctx.name}/${opType}` });
  if (readBoolean(ctx, 'keepDims', false) || readBoolean(ctx, 'keepdims', false)) {
    ctx.setOutput(pooled);
    return;
  }
  ctx.setOutput(
    ctx.graph.addNode('Flatten', [pooled], { name: `${ctx.name}/Flatten`, attributes: { axis: { int: 1 } }, output: { layout: 'native', rank: 2 } }),
  );
}

registerMapper('MaxPooling2D', (ctx) => pool(ctx, 'MaxPool'));
registerMapper('AveragePooling2D', (ctx) => pool(ctx, 'AveragePool'));
registerMapper('GlobalAveragePooling2D', (ctx) => globalPool(ctx, 'GlobalAveragePool'));
registerMapper('GlobalMaxPooling2D', (ctx) => globalPool(ctx, 'GlobalMaxPool'));
