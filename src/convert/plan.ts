import type * as tfjs from '@tensorflow/tfjs';

type Layer = tfjs.layers.Layer;
type SymbolicTensor = tfjs.SymbolicTensor;

/** One call of one layer, with inputs already resolved through any nested-model boundaries. */
export interface Step {
  layer: Layer;
  inputs: SymbolicTensor[];
  output: SymbolicTensor;
}

export interface Plan {
  /** Topological order: every step comes after the steps producing its inputs. */
  steps: Step[];
  output: SymbolicTensor;
  /** How many step inputs read each tensor (by id); the model output counts as one more. */
  consumers: Map<number, number>;
}

/** A model used as a layer of another model (a functional model or a Sequential). */
interface NestedModel extends Layer {
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
}

function isNestedModel(layer: Layer): layer is NestedModel {
  const candidate = layer as Partial<NestedModel>;
  return Array.isArray(candidate.inputs) && Array.isArray(candidate.outputs) && 'layers' in layer;
}

/**
 * Orders the layer calls that the model's output depends on, by walking back from the output
 * through each tensor's producing node. Nested models are inlined: their inputs are bound to the
 * outer tensors that feed them, so the exporter only ever sees plain layers.
 */
export function planGraph(model: tfjs.LayersModel): Plan {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`ONNX export needs a model with one input and one output; this one has ${model.inputs.length} and ${model.outputs.length}`);
  }
  const modelInput = model.inputs[0];
  const steps: Step[] = [];
  const consumers = new Map<number, number>();
  // Tensor id -> the tensor that actually carries its value (itself, or the outer tensor bound
  // to a nested model's input, or a nested model's inner output).
  const resolved = new Map<number, SymbolicTensor>();
  const bindings = new Map<number, SymbolicTensor>();

  const visit = (tensor: SymbolicTensor): SymbolicTensor => {
    const known = resolved.get(tensor.id) ?? bindings.get(tensor.id);
    if (known) {
      resolved.set(tensor.id, known);
      return known;
    }
    const layer = tensor.sourceLayer;
    const node = layer.inboundNodes[tensor.nodeIndex];
    if (isNestedModel(layer)) {
      node.inputTensors.forEach((outer, i) => {
        const value = visit(outer);
        const inner = layer.inputs[i];
        const previous = bindings.get(inner.id);
        if (previous && previous !== value) throw new Error(`nested model "${layer.name}" is called more than once; ONNX export inlines it and needs a single call`);
        bindings.set(inner.id, value);
      });
      const value = visit(layer.outputs[tensor.tensorIndex]);
      resolved.set(tensor.id, value);
      return value;
    }
    if (node.inboundLayers.length === 0) {
      // An InputLayer. Inner inputs of nested models were bound above, so this is the model's own.
      if (tensor.id !== modelInput.id) throw new Error(`tensor "${tensor.name}" is an input that the exported model does not provide`);
      steps.push({ layer, inputs: [], output: tensor });
      resolved.set(tensor.id, tensor);
      return tensor;
    }
    if (node.outputTensors.length !== 1) throw new Error(`layer "${layer.name}" has ${node.outputTensors.length} outputs; ONNX export supports single-output layers`);
    const inputs = node.inputTensors.map(visit);
    for (const input of inputs) consumers.set(input.id, (consumers.get(input.id) ?? 0) + 1);
    steps.push({ layer, inputs, output: tensor });
    resolved.set(tensor.id, tensor);
    return tensor;
  };

  const output = visit(model.outputs[0]);
  consumers.set(output.id, (consumers.get(output.id) ?? 0) + 1);
  return { steps, output, consumers };
}
