import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../tf-module.ts';

/**
 * The parts of tfjs-backend-wasm's BackendWasm that these kernels use. The class is not exported
 * in a form the TF.js union package can name, so kernels cast their `backend` argument to this.
 * Tensor data lives in the backend's WebAssembly heap: a kernel reads its inputs and writes its
 * output there in place, with no copy into JS arrays.
 */
export interface WasmBackend {
  wasm: { HEAPF32: Float32Array; HEAPU8: Uint8Array; asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tfjs.DataType): tfjs.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

export type KernelFunc = tfjs.KernelConfig['kernelFunc'];

/** Marks the kernel configs registered here, so registering twice is a no-op. */
export const FOOTWEAR_KERNEL = 'footwearGradientKernel';

/** Byte offset of `info`'s data in the heap. */
export function byteOffset(backend: WasmBackend, info: tfjs.TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (!data) throw new Error('tensor is not on the wasm backend (its data id is unknown there)');
  return data.memoryOffset;
}

/**
 * Index of `info`'s first element in the heap's Float32Array. Take views of the heap after a
 * kernel's last `makeOutput`: an allocation can grow the memory, which detaches older views.
 */
export function floatIndex(backend: WasmBackend, info: tfjs.TensorInfo): number {
  return byteOffset(backend, info) >> 2;
}

/** Whether every input is float32 and of exactly this shape. */
export function allFloat32OfShape(shape: readonly number[], ...infos: tfjs.TensorInfo[]): boolean {
  return infos.every((t) => t.dtype === 'float32' && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]));
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function requireFloat32(kernel: string, inputs: Record<string, tfjs.TensorInfo>): void {
  for (const [name, info] of Object.entries(inputs)) {
    if (info.dtype !== 'float32') throw new Error(`${kernel}: expected ${name} of dtype float32, got ${info.dtype}`);
  }
}

/** The same data seen with another shape of equal size: what the wasm Reshape kernel does, without its reference count. */
export function viewAs(info: tfjs.TensorInfo, shape: number[]): tfjs.TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/**
 * Runs whichever kernel is registered on the wasm backend under `name` now, so the patched
 * BatchMatMul of ../wasm-matmul.ts serves these kernels too when it is installed.
 */
export function runWasmKernel(tf: Tf, name: string, backend: WasmBackend, inputs: Record<string, tfjs.TensorInfo>, attrs: Record<string, unknown>): tfjs.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`the wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, backend: backend as never, attrs: attrs as tfjs.NamedAttrMap }) as tfjs.TensorInfo;
}

/** a · b as plain row-major matrices, [m, k] x [k, n] (or transposed as flagged), into a new [m, n] tensor. */
export function matMul(tf: Tf, backend: WasmBackend, a: tfjs.TensorInfo, b: tfjs.TensorInfo, transposeA: boolean, transposeB: boolean): tfjs.TensorInfo {
  return runWasmKernel(tf, 'BatchMatMul', backend, { a, b }, { transposeA, transposeB });
}
