import { readNumberList, requireChannelsLast } from '../config.ts';
import { arrangeAxes } from '../layout.ts';
import { registerMapper } from '../registry.ts';

registerMapper('ZeroPadding2D', (ctx) => {
  requireChannelsLast(ctx);
  const padding = ctx.config.padding;
  if (!Array.isArray(padding) || padding.length !== 2 || !padding.every((p) => Array.isArray(p) && p.length === 2)) {
    return ctx.unsupported(`padding ${JSON.stringify(padding)} should be [[top, bottom], [left, right]]`);
  }
  const [[top, bottom], [left, right]] = padding as [[number, number], [number, number]];
  // Pads in whatever layout the input already has, so padding never forces a transpose.
  const x = ctx.input(0);
  const { layout } = ctx.graph.info(x);
  const begin = arrangeAxes([0, top, left, 0], layout);
  const end = arrangeAxes([0, bottom, right, 0], layout);
  const pads = ctx.graph.addInt64Initializer(`${ctx.name}/pads`, [...begin, ...end]);
  const y = ctx.graph.addNode('Pad', [x, pads], { name: `${ctx.name}/Pad` });
  const node = ctx.graph.producer(y);
  if (node) ctx.offerFold({ kind: 'padding', node, source: x, begin: [top, left], end: [bottom, right] });
  ctx.setOutput(y);
});

registerMapper('Flatten', (ctx) => {
  const shape = ctx.inputShapes[0];
  if (shape.length <= 2) {
    ctx.setOutput(ctx.input(0));
    return;
  }
  // Keras flattens channels-last. When every spatial size is 1 both layouts hold the values in
  // the same order (e.g. after global-sized pooling), so no transpose is needed.
  const spatialIsTrivial = shape.slice(1, -1).every((d) => d === 1);
  const x = spatialIsTrivial ? ctx.input(0) : ctx.input(0, 'native');
  ctx.setOutput(
    ctx.graph.addNode('Flatten', [x], { name: `${ctx.name}/Flatten`, attributes: { axis: { int: 1 } }, output: { layout: 'native', rank: 2 } }),
  );
});

registerMapper('Reshape', (ctx) => {
  // Keras's -1 is serialised as null; ONNX's 0 copies the (dynamic) batch size from the input.
  const target = readNumberList(ctx, 'targetShape').map((d) => d ?? -1);
  const shape = ctx.graph.addInt64Initializer(`${ctx.name}/shape`, [0, ...target]);
  ctx.setOutput(
    ctx.graph.addNode('Reshape', [ctx.input(0, 'native'), shape], { name: `${ctx.name}/Reshape`, output: { layout: 'native', rank: target.length + 1 } }),
  );
});
