import { parseTta } from '../core/index.ts';
import { hostWorker, loadModel, type Classifier } from '../node/index.ts';
import type { BatchDone, BatchJob, ModelInfo, WorkerInit } from './worker-protocol.ts';

// Inference worker thread: one ONNX Runtime session, one batch at a time. Keeping `run` off the
// server thread leaves its event loop free to parse requests and answer probes while a batch runs.

let classifier: Classifier;

await hostWorker<WorkerInit, ModelInfo, BatchJob, BatchDone>({
  async start(init, log) {
    const tta = parseTta(init.tta) ?? 'off'; // resolveOptions has checked it
    classifier = await loadModel(init.model, { ep: init.ep, threads: init.threads, spinWait: init.spinWait, runtime: init.runtime, tta, log });
    const blank = new Float32Array(classifier.inputSize);
    await classifier.classifyBatch(Array.from({ length: init.warmupBatch }, () => blank));
    return { spec: classifier.spec, executionProvider: classifier.executionProvider, modelPath: classifier.modelPath };
  },
  async run({ inputs, count }) {
    // The probabilities come back in one array, as ONNX Runtime wrote them: no copy per image.
    const probs = await classifier.classifyPacked(inputs, count);
    const own = probs.byteLength === probs.buffer.byteLength ? probs : probs.slice();
    return { result: { probs: own, inputs }, transfer: [own.buffer as ArrayBuffer, inputs.buffer as ArrayBuffer] };
  },
  stop: () => classifier.release(),
});
