import { onnx, type OnnxProto } from './onnx.ts';
import { transposePerm, type Layout } from './layout.ts';

export type Attribute = { int: number } | { ints: readonly number[] } | { float: number } | { string: string };

/** What the builder knows about every tensor it has handed out. */
export interface TensorInfo {
  layout: Layout;
  rank: number;
}

/** A graph input/output dimension: a size, or a symbol for sizes only known at run time. */
export type Dim = number | string;

interface FloatInitializer {
  kind: 'float';
  data: Float32Array;
  dims: number[];
}
interface Int64Initializer {
  kind: 'int64';
  data: number[];
  dims: number[];
}

/** The symbolic batch axis of graph inputs and outputs, so one file serves any batch size. */
export const BATCH_SYMBOL = 'N';

/** Graph input/output dims from a Keras shape: symbolic batch, named symbols for other unknowns. */
export function graphDims(shape: readonly (number | null)[], prefix: string): Dim[] {
  return shape.map((d, i) => (i === 0 ? BATCH_SYMBOL : (d ?? `${prefix}_dim${i}`)));
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Accumulates one ONNX graph: nodes in emission order (which is topological, because layers are
 * mapped in topological order), float and int64 initializers, and graph inputs and outputs.
 * Names are made unique here so mappers can name things after their Keras layer freely.
 */
export class GraphBuilder {
  private readonly nodes: OnnxProto.INodeProto[] = [];
  private readonly initializers = new Map<string, FloatInitializer | Int64Initializer>();
  private readonly taken = new Set<string>();
  private readonly tensors = new Map<string, TensorInfo>();
  /** `${name}|${layout}` -> the already transposed tensor, so each relayout happens once. */
  private readonly relayouts = new Map<string, string>();
  private readonly scalars = new Map<number, string>();
  private readonly inputs: OnnxProto.IValueInfoProto[] = [];
  private readonly outputs: OnnxProto.IValueInfoProto[] = [];

  /** `base`, or `base_1`, `base_2`, ... when taken: ONNX requires graph-wide unique names. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new Error(`internal: tensor "${name}" has no layout information`);
    return info;
  }

  /**
   * Adds a single-output node and returns its output name. Unless `output` says otherwise the
   * output inherits the layout and rank of the first input, which is right for elementwise ops.
   */
  addNode(
    opType: string,
    inputs: readonly string[],
    options: { name?: string; attributes?: Record<string, Attribute>; output?: TensorInfo } = {},
  ): string {
    const nodeName = this.uniqueName(options.name ?? opType);
    const outputName = this.uniqueName(`${nodeName}:0`);
    const info = options.output ?? this.info(inputs[0]);
    this.tensors.set(outputName, { ...info });
    const attribute = Object.entries(options.attributes ?? {}).map(([key, value]) => encodeAttribute(key, value));
    this.nodes.push({ name: nodeName, opType, input: [...inputs], output: [outputName], attribute });
    return outputName;
  }

  /** The node that produces `tensor`, for fusions that rewrite a node after the fact. */
  producer(tensor: string): OnnxProto.INodeProto | undefined {
    return this.nodes.find((n) => n.output?.includes(tensor));
  }

  removeNode(node: OnnxProto.INodeProto): void {
    const index = this.nodes.indexOf(node);
    if (index < 0) throw new Error(`internal: node "${node.name}" is not in the graph`);
    this.nodes.splice(index, 1);
  }

  addFloatInitializer(base: string, data: Float32Array, dims: readonly number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (expected !== data.length) throw new Error(`internal: initializer "${base}" has ${data.length} values for dims [${dims}]`);
    const name = this.uniqueName(base);
    this.initializers.set(name, { kind: 'float', data, dims: [...dims] });
    this.tensors.set(name, { layout: 'native', rank: dims.length });
    return name;
  }

  addInt64Initializer(base: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.uniqueName(base);
    this.initializers.set(name, { kind: 'int64', data: [...values], dims: [...dims] });
    this.tensors.set(name, { layout: 'native', rank: dims.length });
    return name;
  }

  /** Live float data of an initializer; fusions (BatchNorm folding) rescale it in place. */
  floatData(name: string): Float32Array {
    const init = this.initializers.get(name);
    if (init?.kind !== 'float') throw new Error(`internal: "${name}" is not a float initializer`);
    return init.data;
  }

  initializerDims(name: string): number[] {
    const init = this.initializers.get(name);
    if (!init) throw new Error(`internal: "${name}" is not an initializer`);
    return [...init.dims];
  }

  /** A shared rank-0 float constant (Clip bounds, scales), one initializer per value. */
  scalar(value: number): string {
    let name = this.scalars.get(value);
    if (!name) {
      name = this.addFloatInitializer(`const_${value}`, new Float32Array([value]), []);
      this.scalars.set(value, name);
    }
    return name;
  }

  /** `name` in `layout`, adding (once per tensor and layout) the Transpose that gets it there. */
  inLayout(name: string, layout: Layout): string {
    const info = this.info(name);
    const perm = transposePerm(info.rank, info.layout, layout);
    if (!perm) return name;
    const key = `${name}|${layout}`;
    let moved = this.relayouts.get(key);
    if (!moved) {
      moved = this.addNode('Transpose', [name], {
        name: `${name.replace(/:0$/, '')}/to_${layout}`,
        attributes: { perm: { ints: perm } },
        output: { layout, rank: info.rank },
      });
      this.relayouts.set(key, moved);
    }
    return moved;
  }

  addInput(name: string, dims: readonly Dim[]): string {
    if (this.taken.has(name)) throw new Error(`graph input name "${name}" is already used`);
    this.taken.add(name);
    this.tensors.set(name, { layout: 'native', rank: dims.length });
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /**
   * Publishes `tensor` as graph output `name`: the producing node is renamed when it is a plain
   * node output, otherwise (a graph input or initializer passing straight through) an Identity
   * carries it.
   */
  addOutput(tensor: string, name: string, dims: readonly Dim[]): void {
    const producer = this.producer(tensor);
    if (producer && !this.taken.has(name)) {
      this.taken.add(name);
      for (const node of this.nodes) node.input = node.input?.map((i) => (i === tensor ? name : i));
      producer.output = producer.output?.map((o) => (o === tensor ? name : o));
    } else {
      if (this.taken.has(name)) throw new Error(`graph output name "${name}" is already used`);
      this.taken.add(name);
      this.nodes.push({ name: `${name}/identity`, opType: 'Identity', input: [tensor], output: [name] });
    }
    this.outputs.push(valueInfo(name, dims));
  }

  toGraphProto(name: string): OnnxProto.IGraphProto {
    // Fusions remove nodes; their now unread constants (e.g. a folded Pad's pads) are dropped.
    const read = new Set(this.nodes.flatMap((n) => n.input ?? []));
    return {
      name,
      node: this.nodes,
      initializer: [...this.initializers].filter(([n]) => read.has(n)).map(([n, init]) => encodeInitializer(n, init)),
      input: this.inputs,
      output: this.outputs,
    };
  }
}

function valueInfo(name: string, dims: readonly Dim[]): OnnxProto.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function encodeAttribute(name: string, value: Attribute): OnnxProto.IAttributeProto {
  const Type = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: Type.INT, i: value.int };
  if ('ints' in value) return { name, type: Type.INTS, ints: [...value.ints] };
  if ('float' in value) return { name, type: Type.FLOAT, f: value.float };
  return { name, type: Type.STRING, s: new TextEncoder().encode(value.string) };
}

/** ONNX raw_data is little-endian whatever the host; copy straight through when they agree. */
function encodeInitializer(name: string, init: FloatInitializer | Int64Initializer): OnnxProto.ITensorProto {
  const DataType = onnx.TensorProto.DataType;
  if (init.kind === 'float') {
    let raw: Uint8Array;
    if (LITTLE_ENDIAN_HOST) {
      raw = new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength).slice();
    } else {
      raw = new Uint8Array(init.data.length * 4);
      const view = new DataView(raw.buffer);
      init.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
    }
    return { name, dims: init.dims, dataType: DataType.FLOAT, rawData: raw };
  }
  const raw = new Uint8Array(init.data.length * 8);
  const view = new DataView(raw.buffer);
  init.data.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: init.dims, dataType: DataType.INT64, rawData: raw };
}
