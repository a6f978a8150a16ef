import { parentPort, workerData } from 'node:worker_threads';
import { loadModel, type Classifier } from '../infer/index.ts';
import type { BatchRequest, ServerMessage, WorkerInit, WorkerMessage } from './worker-protocol.ts';

// Inference worker thread: one ONNX Runtime session, one batch at a time. Keeping `run` off the
// server thread leaves its event loop free to parse requests and answer probes while a batch runs.

const port = parentPort;
if (!port) throw new Error('serve/worker.ts runs only as a worker thread');
const init = workerData as WorkerInit;
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

async function start(): Promise<Classifier | undefined> {
  try {
    const classifier = await loadModel(init.model, { ep: init.ep, threads: init.threads, spinWait: init.spinWait, log: (line) => post({ type: 'log', line }) });
    const blank = new Float32Array(classifier.inputSize);
    await classifier.classifyBatch(Array.from({ length: init.warmupBatch }, () => blank));
    post({ type: 'ready', info: { spec: classifier.spec, executionProvider: classifier.executionProvider, modelPath: classifier.modelPath } });
    return classifier;
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ type: 'failed', name: e.name, message: e.message });
    return undefined;
  }
}

async function runBatch(classifier: Classifier, { id, inputs, count }: BatchRequest): Promise<void> {
  try {
    // classifyPacked checks that `inputs` holds `count` images.
    const probs = await classifier.classifyPacked(inputs, count);
    const classes = classifier.labels.length;
    const out = new Float32Array(count * classes);
    probs.forEach((p, i) => out.set(p, i * classes));
    post({ type: 'result', id, probs: out, inputs }, [out.buffer, inputs.buffer as ArrayBuffer]);
  } catch (error) {
    post({ type: 'error', id, message: error instanceof Error ? error.message.split('\n')[0] : String(error) });
  }
}

const classifier = await start();
if (classifier) {
  let running: Promise<void> = Promise.resolve();
  port.on('message', (message: ServerMessage) => {
    if (message.type === 'batch') {
      running = runBatch(classifier, message);
      return;
    }
    // Ending the thread while ONNX Runtime is inside `run` aborts the whole process, so the
    // batch in hand finishes and the session is released before the port closes.
    void running
      .then(() => classifier.release())
      .catch(() => {})
      .finally(() => port.close());
  });
} else {
  port.close();
}
