import { code, frame, i32, module, op, uleb } from '../../spec/wasm/emit.ts';
import type { WasmBackend } from './wasm-backend.ts';

/**
 * The two inner loops of the kernels here, over float indices into the wasm backend's heap. In
 * NHWC data a pixel's channels are contiguous, so each kernel's inner work is one of these along
 * a row of channels:
 * - madd: acc[i] += a[i] * b[i]. Depthwise filter gradient: acc a tap's row of dW, a the input
 *   pixel under the tap, b the output gradient; input gradient: acc the input pixel's gradient,
 *   a the output gradient, b the tap's weights.
 * - add: acc[i] += a[i]. Sums over leading axes: acc the output row, a each input row in turn.
 */
export interface VectorLoops {
  madd(acc: number, a: number, b: number, n: number): void;
  add(acc: number, a: number, n: number): void;
}

// Opcodes that emit.ts's table lacks. Plain multiply then add, no fused or relaxed forms: each
// rounds to float32, as the JS loops' fround and Float32Array stores do, so both give the same
// floats.
const simd = (opcode: number): number[] => [0xfd, ...uleb(opcode)];
const f32Load = [0x2a, 2, 0];
const f32Store = [0x38, 2, 0];
const f32Add = 0x92;
const f32Mul = 0x94;
const f32x4Add = simd(0xe4);
const f32x4Mul = simd(0xe6);
const i32And = 0x71;
const { get, set, brIf, br } = op;

/**
 * A function over `pointers` (float indices on entry, the first being the one written) and a
 * count n: four floats at a time with `vector`, then one at a time with `scalar`, each of which
 * gets the pointers' locals and leaves the value to store at the first pointer on the stack.
 */
function rowLoop(pointers: readonly string[], vector: (p: number[]) => number[], scalar: (p: number[]) => number[]) {
  const { at, params, locals } = frame({ ...Object.fromEntries(pointers.map((name) => [name, i32])), n: i32 }, { vectorEnd: i32, end: i32 });
  const index = at as Record<string, number>;
  const p = pointers.map((name) => index[name]);
  const toBytes = p.map((local) => code(get(local), op.i32Const(2), op.i32Shl, set(local)));
  const endAfter = (floats: number[], local: number) => code(get(p[0]), floats, op.i32Const(2), op.i32Shl, op.i32Add, set(local));
  const loopUntil = (end: number, value: number[], bytes: number) =>
    code(op.block, op.loop, get(p[0]), get(end), op.i32GeU, brIf(1), get(p[0]), value, bytes === 16 ? op.v128Store() : f32Store,
      p.map((local) => code(get(local), op.i32Const(bytes), op.i32Add, set(local))), br(0), op.end, op.end);
  const body = code(
    toBytes,
    endAfter(code(get(index.n)), index.end),
    endAfter(code(get(index.n), op.i32Const(-4), i32And), index.vectorEnd),
    loopUntil(index.vectorEnd, vector(p), 16),
    loopUntil(index.end, scalar(p), 4),
  );
  return { params, locals, body };
}

function loopsModule(): Uint8Array<ArrayBuffer> {
  const load = (local: number) => code(get(local), op.v128Load());
  const loadOne = (local: number) => code(get(local), f32Load);
  return module({
    madd: rowLoop(['acc', 'a', 'b'], ([acc, a, b]) => code(load(acc), load(a), load(b), f32x4Mul, f32x4Add), ([acc, a, b]) => code(loadOne(acc), loadOne(a), loadOne(b), f32Mul, f32Add)),
    add: rowLoop(['acc', 'a'], ([acc, a]) => code(load(acc), load(a), f32x4Add), ([acc, a]) => code(loadOne(acc), loadOne(a), f32Add)),
  });
}

let compiled: WebAssembly.Module | null | undefined;
const instances = new WeakMap<WebAssembly.Memory, VectorLoops>();

function compile(): WebAssembly.Module | null {
  if (compiled === undefined) {
    compiled = null;
    try {
      const bytes = loopsModule();
      if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
    } catch {
      // Leaves compiled null: the JS loops serve.
    }
  }
  return compiled;
}

/**
 * The SIMD loops, run on the backend's own memory (imported, so tensors are read and written
 * where they lie), or undefined where that cannot be had: no SIMD, a shared (threaded) memory
 * that a plain import cannot take, or a backend build that does not expose its memory.
 */
export function simdLoops(backend: WasmBackend): VectorLoops | undefined {
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  const known = instances.get(memory);
  if (known) return known;
  const wasm = compile();
  if (!wasm) return undefined;
  try {
    const exports = new WebAssembly.Instance(wasm, { env: { memory } }).exports as unknown as VectorLoops;
    const loops = { madd: exports.madd, add: exports.add };
    instances.set(memory, loops);
    return loops;
  } catch {
    return undefined;
  }
}

/**
 * The same loops in JS over a view of the heap (take the view after the kernel's allocations).
 * madd rounds the product to float32 before adding, as f32x4.mul does; a sum of two float32s
 * computed in doubles rounds to their float32 sum when stored.
 */
export function jsLoops(heap: Float32Array): VectorLoops {
  return {
    madd(acc, a, b, n) {
      for (let i = 0; i < n; i++) heap[acc + i] += Math.fround(heap[a + i] * heap[b + i]);
    },
    add(acc, a, n) {
      for (let i = 0; i < n; i++) heap[acc + i] += heap[a + i];
    },
  };
}

let preferSimd = true;

/** Lets tests run the JS loops on the same inputs; the SIMD loops are used whenever they can be. */
export function useSimdLoops(enabled: boolean): void {
  preferSimd = enabled;
}

/** The loops for a kernel to use now; call it after the kernel's last allocation. */
export function vectorLoops(backend: WasmBackend): VectorLoops {
  return (preferSimd && simdLoops(backend)) || jsLoops(backend.wasm.HEAPF32);
}
