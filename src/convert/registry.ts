import type * as tfjs from '@tensorflow/tfjs';
import type { GraphBuilder } from './graph.ts';
import type { Layout } from './layout.ts';
import type { OnnxProto } from './onnx.ts';

export type KerasShape = (number | null)[];

/** A layer weight read out of TF.js, with its Keras shape. */
export interface WeightValue {
  data: Float32Array;
  shape: number[];
}

/**
 * An emitted node a later layer may absorb. Mappers leave these on their output; the consumer
 * sees one only when it is that tensor's sole consumer (and the tensor is not the model output),
 * so absorbing never changes what anyone else computes.
 */
export type Foldable =
  | {
      kind: 'padding';
      node: OnnxProto.INodeProto;
      /** The tensor before padding. */
      source: string;
      /** Zero padding per spatial axis in native order (height, width). */
      begin: number[];
      end: number[];
    }
  | {
      /** A Conv or Gemm with no activation: y = W x + b, per output channel. */
      kind: 'affine';
      node: OnnxProto.INodeProto;
      /** Initializer names. */
      weight: string;
      bias?: string;
      channels: number;
      /** Which axis of the weight initializer indexes output channels. */
      channelAxis: number;
    };

export interface ExportSettings {
  inputName: string;
  outputName: string;
  opset: number;
}

/** Everything a mapper sees of one layer call. */
export interface LayerContext {
  readonly layer: tfjs.layers.Layer;
  readonly className: string;
  readonly name: string;
  readonly config: tfjs.serialization.ConfigDict;
  readonly graph: GraphBuilder;
  readonly settings: ExportSettings;
  readonly inputShapes: readonly KerasShape[];
  readonly outputShape: KerasShape;
  readonly inputCount: number;
  /** ONNX name of input `index`, transposed into `layout` when one is asked for. */
  input(index: number, layout?: Layout): string;
  inputLayout(index: number): Layout;
  /** Declares the ONNX tensor that holds this layer's output. */
  setOutput(tensor: string): void;
  /** A weight by its Keras name without the layer prefix ('kernel', 'moving_mean', ...). */
  weight(key: string): WeightValue | undefined;
  requireWeight(key: string): WeightValue;
  foldable(index: number): Foldable | undefined;
  offerFold(fold: Foldable): void;
  /** Throws UnsupportedLayerError for this layer with `reason`. */
  unsupported(reason: string): never;
}

export type Mapper = (ctx: LayerContext) => void;

const mappers = new Map<string, Mapper>();

/** Registers how to emit one Keras layer class; each mapper family registers its own classes. */
export function registerMapper(className: string, mapper: Mapper): void {
  if (mappers.has(className)) throw new Error(`a mapper for ${className} is already registered`);
  mappers.set(className, mapper);
}

export function mapperFor(className: string): Mapper | undefined {
  return mappers.get(className);
}

export function registeredClasses(): string[] {
  return [...mappers.keys()].sort();
}
