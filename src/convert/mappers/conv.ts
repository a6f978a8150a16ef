import { readPair, readString, requireChannelsLast } from '../config.ts';
import type { Attribute } from '../graph.ts';
import { addPads, onnxPads, samePads, type SpatialPads } from '../padding.ts';
import { registerMapper, type LayerContext, type WeightValue } from '../registry.ts';
import { applyActivation, layerActivation } from './activations.ts';

/**
 * Keras kernel [kh, kw, in, out] -> ONNX Conv weight [out, in, kh, kw]. A depthwise kernel
 * [kh, kw, C, M] is the same transform on its [kh, kw, 1, C*M] view, because TF's depthwise
 * output channel c*M + m is exactly ONNX's grouped-conv output channel for group c.
 */
export function kernelToOnnx(data: Float32Array, kh: number, kw: number, inChannels: number, outChannels: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < inChannels; i++) {
        const from = ((y * kw + x) * inChannels + i) * outChannels;
        for (let o = 0; o < outChannels; o++) out[((o * inChannels + i) * kh + y) * kw + x] = data[from + o];
      }
    }
  }
  return out;
}

interface ConvGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

function readGeometry(ctx: LayerContext): ConvGeometry {
  requireChannelsLast(ctx);
  return {
    kernel: readPair(ctx, 'kernelSize'),
    strides: readPair(ctx, 'strides', [1, 1]),
    dilations: readPair(ctx, 'dilationRate', [1, 1]),
  };
}

/**
 * Conv attributes plus the NCHW tensor to convolve. TF's 'same' padding becomes explicit
 * (possibly asymmetric) pads; a ZeroPadding2D that only feeds this conv is absorbed into them.
 */
function spatialInput(ctx: LayerContext, geometry: ConvGeometry): { x: string; attributes: Record<string, Attribute> } {
  const padding = readString(ctx, 'padding', 'valid');
  if (padding !== 'same' && padding !== 'valid') ctx.unsupported(`padding "${padding}" is not supported`);
  const [, height, width] = ctx.inputShapes[0];
  const own: SpatialPads | undefined =
    padding === 'valid' ? { begin: [0, 0], end: [0, 0] } : samePads([height, width], geometry.kernel, geometry.strides, geometry.dilations);
  const attributes: Record<string, Attribute> = {
    kernel_shape: { ints: geometry.kernel },
    strides: { ints: geometry.strides },
    dilations: { ints: geometry.dilations },
  };
  if (!own) {
    attributes.auto_pad = { string: 'SAME_UPPER' };
    return { x: ctx.input(0, 'channelsFirst'), attributes };
  }
  let source = ctx.input(0);
  let pads = own;
  const fold = ctx.foldable(0);
  if (fold?.kind === 'padding') {
    ctx.graph.removeNode(fold.node);
    source = fold.source;
    pads = addPads(own, fold);
  }
  attributes.pads = { ints: onnxPads(pads) };
  return { x: ctx.graph.inLayout(source, 'channelsFirst'), attributes };
}

/** Emits Conv (+ activation) and offers the conv to a following BatchNormalization when linear. */
function emitConv(ctx: LayerContext, x: string, weight: string, bias: string | undefined, channels: number, attributes: Record<string, Attribute>): void {
  const graph = ctx.graph;
  const y = graph.addNode('Conv', bias ? [x, weight, bias] : [x, weight], {
    name: `${ctx.name}/Conv`,
    attributes,
    output: { layout: 'channelsFirst', rank: 4 },
  });
  const activation = layerActivation(ctx);
  if (activation === 'linear') {
    const node = graph.producer(y);
    if (node) ctx.offerFold({ kind: 'affine', node, weight, bias, channels, channelAxis: 0 });
  }
  ctx.setOutput(applyActivation(ctx, activation, y));
}

function optionalBias(ctx: LayerContext): string | undefined {
  const bias = ctx.weight('bias');
  return bias ? ctx.graph.addFloatInitializer(`${ctx.name}/bias`, bias.data, bias.shape) : undefined;
}

function addKernel(ctx: LayerContext, key: string, kernel: WeightValue, inChannels: number, outChannels: number): string {
  const [kh, kw] = kernel.shape;
  const data = kernelToOnnx(kernel.data, kh, kw, inChannels, outChannels);
  return ctx.graph.addFloatInitializer(`${ctx.name}/${key}`, data, [outChannels, inChannels, kh, kw]);
}

registerMapper('Conv2D', (ctx) => {
  const groups = ctx.config.groups;
  if (groups != null && groups !== 1) ctx.unsupported(`groups=${String(groups)} is not supported`);
  const geometry = readGeometry(ctx);
  const kernel = ctx.requireWeight('kernel');
  const [, , inChannels, outChannels] = kernel.shape;
  const { x, attributes } = spatialInput(ctx, geometry);
  const weight = addKernel(ctx, 'kernel', kernel, inChannels, outChannels);
  emitConv(ctx, x, weight, optionalBias(ctx), outChannels, attributes);
});

registerMapper('DepthwiseConv2D', (ctx) => {
  const geometry = readGeometry(ctx);
  const kernel = ctx.requireWeight('depthwise_kernel');
  const [, , channels, multiplier] = kernel.shape;
  const { x, attributes } = spatialInput(ctx, geometry);
  const weight = addKernel(ctx, 'depthwise_kernel', kernel, 1, channels * multiplier);
  emitConv(ctx, x, weight, optionalBias(ctx), channels * multiplier, { ...attributes, group: { int: channels } });
});

registerMapper('SeparableConv2D', (ctx) => {
  const geometry = readGeometry(ctx);
  const depthwise = ctx.requireWeight('depthwise_kernel');
  const pointwise = ctx.requireWeight('pointwise_kernel');
  const [, , channels, multiplier] = depthwise.shape;
  const outChannels = pointwise.shape[3];
  const { x, attributes } = spatialInput(ctx, geometry);
  const spatial = ctx.graph.addNode('Conv', [x, addKernel(ctx, 'depthwise_kernel', depthwise, 1, channels * multiplier)], {
    name: `${ctx.name}/depthwise`,
    attributes: { ...attributes, group: { int: channels } },
    output: { layout: 'channelsFirst', rank: 4 },
  });
  const weight = addKernel(ctx, 'pointwise_kernel', pointwise, channels * multiplier, outChannels);
  emitConv(ctx, spatial, weight, optionalBias(ctx), outChannels, { kernel_shape: { ints: [1, 1] } });
});
