import { wasmEmit } from '../../core/index.ts';

const { code, frame, i32, module, op, uleb } = wasmEmit;
type Code = wasmEmit.Code;
import type { WasmBackend } from './wasm-backend.ts';

/**
 * The inner loops of the kernels here, over the wasm backend's heap. Pointers are element
 * indices: into HEAPF32 for float32 data, into HEAPU8 for bool data. In NHWC data a pixel's
 * channels are contiguous, so each kernel's inner work is one of these along a row:
 * - madd: acc[i] += a[i] * b[i]. Depthwise filter gradient: acc a tap's row of dW, a the input
 *   pixel under the tap, b the output gradient; input gradient: acc the input pixel's gradient,
 *   a the output gradient, b the tap's weights.
 * - add: acc[i] += a[i]. Sums over leading axes: acc the output row, a each input row in turn.
 * - greaterEqual / lessEqual: out[i] = x[i] >= s (<= s), s a float at index `s`; out is bool.
 * - and: out[i] = a[i] & b[i], all bool.
 * - select: out[i] = condition[i] ? a[i] : b[i], condition bool.
 * - normalize: out[i] = (x[i] - mean[i]) * factor[i] + offset[i], batch normalisation along a
 *   row of channels.
 */
export interface VectorLoops {
  madd(acc: number, a: number, b: number, n: number): void;
  add(acc: number, a: number, n: number): void;
  greaterEqual(out: number, x: number, s: number, n: number): void;
  lessEqual(out: number, x: number, s: number, n: number): void;
  and(out: number, a: number, b: number, n: number): void;
  select(out: number, condition: number, a: number, b: number, n: number): void;
  normalize(out: number, x: number, mean: number, factor: number, offset: number, n: number): void;
}

// Opcodes that emit.ts's table lacks. Plain multiply then add, no fused or relaxed forms: each
// rounds to float32, as the JS loops' fround and Float32Array stores do, so both give the same
// floats.
const simd = (opcode: number): number[] => [0xfd, ...uleb(opcode)];
const f32Load = [0x2a, 2, 0];
const f32Store = [0x38, 2, 0];
const u8Load = [0x2d, 0, 0];
const u8Store = [0x3a, 0, 0];
const f32Le = 0x5f;
const f32Ge = 0x60;
const f32Sub = 0x93;
const f32Add = 0x92;
const f32Mul = 0x94;
const i32And = 0x71;
const select = 0x1b;
const v128Load32Splat = [...simd(0x09), 2, 0];
const i8x16Splat = simd(0x0f);
const i32x4Ne = simd(0x38);
const f32x4Le = simd(0x45);
const f32x4Ge = simd(0x46);
const v128And = simd(0x4e);
const v128Bitselect = simd(0x52);
const i8x16NarrowI16x8S = simd(0x65);
const i16x8NarrowI32x4S = simd(0x85);
const f32x4Add = simd(0xe4);
const f32x4Sub = simd(0xe5);
const f32x4Mul = simd(0xe6);
const { get, set, brIf, br } = op;

/** A pointer parameter that a loop steps through: log2 of its element size, 2 for float32, 0 for bool. */
type Stream = readonly [name: string, shift: 0 | 2];

/**
 * A function of `streams` (the first is the one written), then `fixed` pointers, then a count n.
 * It runs `vector` for `lanes` elements at a time while that many remain, then `scalar` for one
 * at a time; each gets the locals of the pointers (as byte addresses) by name and does its own
 * loads and store. The loops step every stream on by the elements done.
 */
function rowLoop(streams: readonly Stream[], fixed: readonly string[], lanes: number, vector: (p: Record<string, number>) => Code, scalar: (p: Record<string, number>) => Code) {
  const names = [...streams.map(([name]) => name), ...fixed];
  const { at, params, locals } = frame({ ...Object.fromEntries(names.map((name) => [name, i32])), n: i32 }, { vectorEnd: i32, end: i32 });
  const p = at as Record<string, number>;
  const [first, firstShift] = streams[0];
  const toBytes = names.map((name) => {
    const shift = streams.find(([s]) => s === name)?.[1] ?? 2;
    return shift === 0 ? [] : code(get(p[name]), op.i32Const(shift), op.i32Shl, set(p[name]));
  });
  const endAfter = (elements: Code, local: number) => code(get(p[first]), elements, op.i32Const(firstShift), op.i32Shl, op.i32Add, set(local));
  const loopUntil = (end: number, body: Code, elements: number) =>
    code(op.block, op.loop, get(p[first]), get(end), op.i32GeU, brIf(1), body,
      streams.map(([name, shift]) => code(get(p[name]), op.i32Const(elements << shift), op.i32Add, set(p[name]))), br(0), op.end, op.end);
  const body = code(
    toBytes,
    endAfter(get(p.n), p.end),
    endAfter(code(get(p.n), op.i32Const(-lanes), i32And), p.vectorEnd),
    loopUntil(p.vectorEnd, vector(p), lanes),
    loopUntil(p.end, scalar(p), 1),
  );
  return { params, locals, body };
}

const float = (name: string): Stream => [name, 2];
const bool = (name: string): Stream => [name, 0];
const load = (local: number, offset = 0) => code(get(local), op.v128Load(offset));
const loadOne = (local: number) => code(get(local), f32Load);

/** out = x op s for 16 floats: four comparisons narrowed to 16 bytes of -1 or 0, then masked to 1 or 0. */
function compareScalar(vectorOp: number[], scalarOp: number) {
  const lanes = (p: Record<string, number>, offset: number) => code(load(p.x, offset), get(p.s), v128Load32Splat, vectorOp);
  return rowLoop([bool('out'), float('x')], ['s'], 16,
    (p) => code(get(p.out), lanes(p, 0), lanes(p, 16), i16x8NarrowI32x4S, lanes(p, 32), lanes(p, 48), i16x8NarrowI32x4S, i8x16NarrowI16x8S, op.i32Const(1), i8x16Splat, v128And, op.v128Store()),
    (p) => code(get(p.out), loadOne(p.x), get(p.s), f32Load, scalarOp, u8Store));
}

function loopsModule(): Uint8Array<ArrayBuffer> {
  return module({
    madd: rowLoop([float('acc'), float('a'), float('b')], [], 4,
      (p) => code(get(p.acc), load(p.acc), load(p.a), load(p.b), f32x4Mul, f32x4Add, op.v128Store()),
      (p) => code(get(p.acc), loadOne(p.acc), loadOne(p.a), loadOne(p.b), f32Mul, f32Add, f32Store)),
    add: rowLoop([float('acc'), float('a')], [], 4,
      (p) => code(get(p.acc), load(p.acc), load(p.a), f32x4Add, op.v128Store()),
      (p) => code(get(p.acc), loadOne(p.acc), loadOne(p.a), f32Add, f32Store)),
    greaterEqual: compareScalar(f32x4Ge, f32Ge),
    lessEqual: compareScalar(f32x4Le, f32Le),
    and: rowLoop([bool('out'), bool('a'), bool('b')], [], 16,
      (p) => code(get(p.out), load(p.a), load(p.b), v128And, op.v128Store()),
      (p) => code(get(p.out), get(p.a), u8Load, get(p.b), u8Load, i32And, u8Store)),
    // Four condition bytes widened to four 32-bit lanes, compared with zero to make the mask.
    select: rowLoop([float('out'), bool('condition'), float('a'), float('b')], [], 4,
      (p) => code(get(p.out), load(p.a), load(p.b), get(p.condition), op.v128Load32Zero(), op.i16x8ExtendLowI8x16U, op.i32x4ExtendLowI16x8U, op.v128Zero, i32x4Ne, v128Bitselect, op.v128Store()),
      (p) => code(get(p.out), loadOne(p.a), loadOne(p.b), get(p.condition), u8Load, select, f32Store)),
    normalize: rowLoop([float('out'), float('x'), float('mean'), float('factor'), float('offset')], [], 4,
      (p) => code(get(p.out), load(p.x), load(p.mean), f32x4Sub, load(p.factor), f32x4Mul, load(p.offset), f32x4Add, op.v128Store()),
      (p) => code(get(p.out), loadOne(p.x), loadOne(p.mean), f32Sub, loadOne(p.factor), f32Mul, loadOne(p.offset), f32Add, f32Store)),
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
    const loops = { ...new WebAssembly.Instance(wasm, { env: { memory } }).exports } as unknown as VectorLoops;
    instances.set(memory, loops);
    return loops;
  } catch {
    return undefined;
  }
}

/**
 * The same loops in JS over views of the heap (take them after the kernel's allocations). Each
 * float operation is rounded to float32 as the wasm one is: fround on intermediate results, and
 * a Float32Array store on the last (one operation on two float32s computed in doubles rounds to
 * the float32 result).
 */
export function jsLoops(f32: Float32Array, u8: Uint8Array): VectorLoops {
  return {
    madd(acc, a, b, n) {
      for (let i = 0; i < n; i++) f32[acc + i] += Math.fround(f32[a + i] * f32[b + i]);
    },
    add(acc, a, n) {
      for (let i = 0; i < n; i++) f32[acc + i] += f32[a + i];
    },
    greaterEqual(out, x, s, n) {
      for (let i = 0; i < n; i++) u8[out + i] = f32[x + i] >= f32[s] ? 1 : 0;
    },
    lessEqual(out, x, s, n) {
      for (let i = 0; i < n; i++) u8[out + i] = f32[x + i] <= f32[s] ? 1 : 0;
    },
    and(out, a, b, n) {
      for (let i = 0; i < n; i++) u8[out + i] = u8[a + i] & u8[b + i];
    },
    select(out, condition, a, b, n) {
      for (let i = 0; i < n; i++) f32[out + i] = u8[condition + i] !== 0 ? f32[a + i] : f32[b + i];
    },
    normalize(out, x, mean, factor, offset, n) {
      for (let i = 0; i < n; i++) f32[out + i] = Math.fround(Math.fround(f32[x + i] - f32[mean + i]) * f32[factor + i]) + f32[offset + i];
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
  return (preferSimd && simdLoops(backend)) || jsLoops(backend.wasm.HEAPF32, backend.wasm.HEAPU8);
}
