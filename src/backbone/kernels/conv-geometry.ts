import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../tf-module.ts';

/** Where a 2-D NHWC convolution's filter taps land: what the gradient loops need to know. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  /** Rows and columns of zeros before the input; the tap (r, c) of output (y, x) reads input (y * stride + r - padTop, x * stride + c - padLeft). */
  padTop: number;
  padLeft: number;
}

export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tfjs.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
  dataFormat?: string;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function requireRank4(kernel: string, name: string, shape: readonly number[]): [number, number, number, number] {
  if (shape.length !== 4) throw new Error(`${kernel}: expected ${name} of rank 4, got shape ${shapeText(shape)}`);
  return shape as [number, number, number, number];
}

/**
 * The geometry of the forward convolution whose gradient `kernel` computes, from its input and
 * filter shapes and the kernel's attributes, with TF.js's own padding rules. Throws one error
 * naming what was expected and what came for what these kernels do not implement: NCHW data,
 * dilations other than 1 and, for depthwise convolutions, channel multipliers other than 1.
 */
export function convGeometry(tf: Tf, kernel: string, inputShape: readonly number[], filterShape: readonly number[], attrs: ConvAttrs, depthwise: boolean): ConvGeometry {
  const input = requireRank4(kernel, 'input shape', inputShape);
  const filter = requireRank4(kernel, 'filter shape', filterShape);
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernel}: expected dataFormat 'NHWC', got '${attrs.dataFormat}'`);
  }
  const dilations = attrs.dilations ?? 1;
  if (!(typeof dilations === 'number' ? dilations === 1 : dilations.every((d) => d === 1))) {
    throw new Error(`${kernel}: expected dilations of 1, got ${JSON.stringify(dilations)}`);
  }
  if (depthwise && filter[3] !== 1) {
    throw new Error(`${kernel}: expected a channel multiplier of 1 (filter shape [h, w, ${input[3]}, 1]), got filter shape ${shapeText(filter)}`);
  }
  if (filter[2] !== input[3]) {
    throw new Error(`${kernel}: expected a filter for ${input[3]} input channels, got filter shape ${shapeText(filter)} for input shape ${shapeText(input)}`);
  }
  const info = tf.backend_util.computeConv2DInfo(input, filter, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, depthwise, 'channelsLast');
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** The forward convolution's output shape, which the incoming gradient must have. */
export function requireGradientShape(kernel: string, dy: readonly number[], g: ConvGeometry): void {
  const expected = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  if (dy.length !== 4 || dy.some((d, i) => d !== expected[i])) {
    throw new Error(`${kernel}: expected dy of shape ${shapeText(expected)} (the convolution's output), got ${shapeText(dy)}`);
  }
}

/** A 1x1 filter at stride 1 with no padding: the convolution is a product of [pixels, channels] matrices. */
export function isPointwise(g: ConvGeometry): boolean {
  return g.filterHeight === 1 && g.filterWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 && g.padTop === 0 && g.padLeft === 0
    && g.outHeight === g.inHeight && g.outWidth === g.inWidth;
}
