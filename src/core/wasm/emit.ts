// A tiny WebAssembly binary encoder: just enough to write the resampler's two loops by hand.
// The module is generated at load time instead of shipped as a .wasm file so there is no binary
// in the repository to trust, no bundler asset handling, and no fetch before the first resize.
// Instructions are plain byte arrays; `code` flattens nested ones, so a function body reads as
// a list of instructions in stack order.

export type Code = number | readonly Code[];

export function code(...parts: Code[]): number[] {
  const out: number[] = [];
  const walk = (part: Code): void => {
    if (typeof part === 'number') out.push(part);
    else for (const p of part) walk(p);
  };
  parts.forEach(walk);
  return out;
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

export const i32 = 0x7f;
export const f64 = 0x7c;
export const v128 = 0x7b;
export type ValType = typeof i32 | typeof f64 | typeof v128;

const vec = (items: readonly Code[]): number[] => code(uleb(items.length), items);
const name = (s: string): number[] => vec([...s].map((c) => c.charCodeAt(0)));
const section = (id: number, body: readonly Code[]): number[] => {
  const bytes = code(body);
  return [id, ...uleb(bytes.length), ...bytes];
};

/** Alignment hints are log2 bytes; engines accept any value up to the natural one and never trap on misalignment. */
const mem = (opcode: Code, align: number, offset = 0): number[] => code(opcode, align, uleb(offset));
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const lanes = (bytes: readonly number[]): number[] => {
  if (bytes.length !== 16) throw new Error('a shuffle names 16 lanes');
  return [...bytes];
};

/** The instructions the resampler uses, named as in the text format. */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: 0x05,
  end: 0x0b,
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32Load: (offset = 0) => mem(0x28, 2, offset),
  i32Const: (n: number) => [0x41, ...sleb(n)],
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Shl: 0x74,
  v128Load: (offset = 0) => mem(simd(0x00), 4, offset),
  v128Load64Splat: (offset = 0) => mem(simd(0x0a), 3, offset),
  v128Load32Zero: (offset = 0) => mem(simd(0x5c), 2, offset),
  v128Load64Zero: (offset = 0) => mem(simd(0x5d), 3, offset),
  v128Store: (offset = 0) => mem(simd(0x0b), 4, offset),
  v128Store64Lane0: (offset = 0) => code(mem(simd(0x5b), 3, offset), 0),
  v128Zero: code(simd(0x0c), new Array(16).fill(0)),
  i8x16Shuffle: (bytes: readonly number[]) => code(simd(0x0d), lanes(bytes)),
  f64x2Splat: simd(0x14),
  f32x4DemoteF64x2Zero: simd(0x5e),
  f64x2PromoteLowF32x4: simd(0x5f),
  i16x8ExtendLowI8x16U: simd(0x89),
  i32x4ExtendLowI16x8U: simd(0xa9),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
  f64x2ConvertLowI32x4U: simd(0xff),
} as const;

export interface Func {
  params: readonly ValType[];
  locals: readonly ValType[];
  body: readonly Code[];
}

/**
 * Locals by name: parameters first, in order, then the function's own locals. Returns the index
 * of each name and the lists the type and code sections need.
 */
export function frame<P extends Record<string, ValType>, L extends Record<string, ValType>>(params: P, locals: L): { at: Record<keyof P | keyof L, number>; params: ValType[]; locals: ValType[] } {
  const names = [...Object.keys(params), ...Object.keys(locals)];
  if (new Set(names).size !== names.length) throw new Error('a local shares a parameter\'s name');
  const at = {} as Record<keyof P | keyof L, number>;
  names.forEach((key, i) => (at[key as keyof P | keyof L] = i));
  return { at, params: Object.values(params), locals: Object.values(locals) };
}

/**
 * A module importing one memory as env.memory and exporting `funcs` by name, none returning a
 * value. Each function gets its own type entry: sharing equal ones would save a few bytes.
 */
export function module(funcs: Record<string, Func>): Uint8Array<ArrayBuffer> {
  const list = Object.values(funcs);
  const type = section(1, [vec(list.map((f) => code(0x60, vec([...f.params]), vec([]))))]);
  const imports = section(2, [vec([code(name('env'), name('memory'), 0x02, 0x00, uleb(1))])]);
  const functions = section(3, [vec(list.map((_, i) => uleb(i)))]);
  const exports = section(7, [vec(Object.keys(funcs).map((key, i) => code(name(key), 0x00, uleb(i))))]);
  const bodies = list.map((f) => {
    // Locals are declared as runs of one type; one run per local is valid and simplest.
    const body = code(vec(f.locals.map((t) => [1, t])), f.body, op.end);
    return code(uleb(body.length), body);
  });
  const codes = section(10, [vec(bodies)]);
  return Uint8Array.from(code([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], type, imports, functions, exports, codes));
}
