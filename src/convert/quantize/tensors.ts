import { onnx, type OnnxProto } from '../onnx.ts';

// TensorProto reading and writing for the quantiser. Data always goes through DataView in
// little-endian order, which is what ONNX raw_data means whatever the host's byte order.

export const DataType = onnx.TensorProto.DataType;

/** Dims as plain numbers (protobufjs may hand int64 fields back as Long objects). */
export function dimsOf(tensor: OnnxProto.ITensorProto): number[] {
  return (tensor.dims ?? []).map((d) => Number(d));
}

function viewOf(raw: Uint8Array): DataView {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** The values of a FLOAT tensor, whether stored as raw_data or as float_data. */
export function readFloats(tensor: OnnxProto.ITensorProto): Float32Array {
  if (tensor.dataType !== DataType.FLOAT) throw new Error(`internal: tensor "${tensor.name}" is not float32 (data type ${tensor.dataType})`);
  if (tensor.rawData && tensor.rawData.length > 0) {
    const view = viewOf(tensor.rawData);
    return Float32Array.from({ length: tensor.rawData.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }
  return Float32Array.from(tensor.floatData ?? []);
}

function rawTensor(name: string, dataType: number, dims: readonly number[], bytesPerValue: number, count: number, write: (view: DataView, i: number) => void): OnnxProto.ITensorProto {
  const raw = new Uint8Array(count * bytesPerValue);
  const view = viewOf(raw);
  for (let i = 0; i < count; i++) write(view, i);
  return { name, dataType, dims: [...dims], rawData: raw };
}

export function floatTensor(name: string, data: ArrayLike<number>, dims: readonly number[]): OnnxProto.ITensorProto {
  return rawTensor(name, DataType.FLOAT, dims, 4, data.length, (v, i) => v.setFloat32(i * 4, data[i], true));
}

export function int8Tensor(name: string, data: Int8Array, dims: readonly number[]): OnnxProto.ITensorProto {
  return rawTensor(name, DataType.INT8, dims, 1, data.length, (v, i) => v.setInt8(i, data[i]));
}

export function uint8Tensor(name: string, data: ArrayLike<number>, dims: readonly number[]): OnnxProto.ITensorProto {
  return rawTensor(name, DataType.UINT8, dims, 1, data.length, (v, i) => v.setUint8(i, data[i]));
}

export function int32Tensor(name: string, data: Int32Array, dims: readonly number[]): OnnxProto.ITensorProto {
  return rawTensor(name, DataType.INT32, dims, 4, data.length, (v, i) => v.setInt32(i * 4, data[i], true));
}

/** A FLOAT16 tensor from IEEE half-precision bit patterns. */
export function float16Tensor(name: string, bits: Uint16Array, dims: readonly number[]): OnnxProto.ITensorProto {
  return rawTensor(name, DataType.FLOAT16, dims, 2, bits.length, (v, i) => v.setUint16(i * 2, bits[i], true));
}

/** A graph output/value-info entry of element type `elemType` with an unknown shape. */
export function valueInfoOfType(name: string, elemType: number): OnnxProto.IValueInfoProto {
  return { name, type: { tensorType: { elemType } } };
}
