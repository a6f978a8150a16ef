// onnx-proto is a CommonJS protobufjs bundle whose `onnx` export Node's ESM loader cannot see
// as a named export, so the namespace is taken from the default export once, here.
import onnxProto from 'onnx-proto';

export type { onnx as OnnxProto } from 'onnx-proto';

export const onnx = onnxProto.onnx;
