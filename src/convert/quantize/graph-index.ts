import { onnx, type OnnxProto } from '../onnx.ts';
import { readFloats } from './tensors.ts';

export type Node = OnnxProto.INodeProto;

/** One use of a tensor: input `slot` of `node`. */
export interface Use {
  node: Node;
  slot: number;
}

/**
 * Read-only lookups over a GraphProto that the quantiser's passes share: who produces and who
 * reads each tensor, which names are initializers, and node attributes by name.
 */
export class GraphIndex {
  readonly nodes: Node[];
  readonly initializers = new Map<string, OnnxProto.ITensorProto>();
  readonly graphInputs: Set<string>;
  readonly graphOutputs: Set<string>;
  private readonly producers = new Map<string, Node>();
  private readonly uses = new Map<string, Use[]>();

  constructor(graph: OnnxProto.IGraphProto) {
    this.nodes = graph.node ?? [];
    for (const init of graph.initializer ?? []) this.initializers.set(init.name ?? '', init);
    this.graphInputs = new Set((graph.input ?? []).map((v) => v.name ?? '').filter((n) => !this.initializers.has(n)));
    this.graphOutputs = new Set((graph.output ?? []).map((v) => v.name ?? ''));
    for (const node of this.nodes) {
      for (const out of node.output ?? []) this.producers.set(out, node);
      (node.input ?? []).forEach((name, slot) => {
        if (!name) return;
        const list = this.uses.get(name) ?? [];
        list.push({ node, slot });
        this.uses.set(name, list);
      });
    }
  }

  producer(tensor: string): Node | undefined {
    return this.producers.get(tensor);
  }

  usesOf(tensor: string): Use[] {
    return this.uses.get(tensor) ?? [];
  }

  isInitializer(name: string | undefined): boolean {
    return name !== undefined && this.initializers.has(name);
  }

  /** A float initializer's values, or undefined when `name` is not one. */
  floatInitializer(name: string | undefined): Float32Array | undefined {
    const init = name === undefined ? undefined : this.initializers.get(name);
    return init ? readFloats(init) : undefined;
  }
}

/** A node attribute by name, as int, float or ints; undefined when absent. */
export function attribute(node: Node, name: string): number | number[] | undefined {
  const attr = node.attribute?.find((a) => a.name === name);
  if (!attr) return undefined;
  if (attr.ints && attr.ints.length > 0) return attr.ints.map(Number);
  // protobufjs leaves unset scalars at 0; the attribute type says which field is meant.
  return attr.type === onnx.AttributeProto.AttributeType.FLOAT ? (attr.f ?? 0) : Number(attr.i ?? 0);
}
