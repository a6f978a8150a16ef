import { readNumber } from '../config.ts';
import { physicalAxis, type Layout } from '../layout.ts';
import { registerMapper, type LayerContext } from '../registry.ts';

/**
 * All inputs in one layout: the first input's, so a residual Add between two NCHW conv outputs
 * stays transpose-free. Inputs of different ranks broadcast in Keras (native) order.
 */
function alignedInputs(ctx: LayerContext): { inputs: string[]; layout: Layout } {
  const ranks = new Set(ctx.inputShapes.map((s) => s.length));
  const layout: Layout = ranks.size === 1 ? ctx.inputLayout(0) : 'native';
  return { inputs: Array.from({ length: ctx.inputCount }, (_, i) => ctx.input(i, layout)), layout };
}

/** Folds the inputs pairwise with a binary op (ORT fuses a lone Add into the Conv before it). */
function chain(ctx: LayerContext, opType: string): string {
  const { inputs } = alignedInputs(ctx);
  return inputs.slice(1).reduce((acc, x) => ctx.graph.addNode(opType, [acc, x], { name: `${ctx.name}/${opType}` }), inputs[0]);
}

/** Ops ONNX defines for any number of inputs. */
function variadic(ctx: LayerContext, opType: string): string {
  return ctx.graph.addNode(opType, alignedInputs(ctx).inputs, { name: `${ctx.name}/${opType}` });
}

registerMapper('Add', (ctx) => ctx.setOutput(chain(ctx, 'Add')));
registerMapper('Multiply', (ctx) => ctx.setOutput(chain(ctx, 'Mul')));
registerMapper('Maximum', (ctx) => ctx.setOutput(variadic(ctx, 'Max')));
registerMapper('Minimum', (ctx) => ctx.setOutput(variadic(ctx, 'Min')));
registerMapper('Average', (ctx) => ctx.setOutput(variadic(ctx, 'Mean')));

registerMapper('Concatenate', (ctx) => {
  const { inputs, layout } = alignedInputs(ctx);
  const rank = ctx.outputShape.length;
  const axis = physicalAxis(readNumber(ctx, 'axis', -1), rank, layout);
  ctx.setOutput(ctx.graph.addNode('Concat', inputs, { name: `${ctx.name}/Concat`, attributes: { axis: { int: axis } } }));
});
