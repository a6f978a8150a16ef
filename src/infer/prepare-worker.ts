import { parentPort } from 'node:worker_threads';
import { prepareFile } from './prepare.ts';
import type { PrepareJob, PrepareReply } from './prepare-protocol.ts';

// Preprocessing worker thread: reads, decodes and resizes photos into shared batch buffers, so
// the thread running ONNX Runtime (whose `run` blocks it) never spends time on pixels.

const port = parentPort;
if (!port) throw new Error('infer/prepare-worker.ts runs only as a worker thread');

port.on('message', (job: PrepareJob) => {
  void prepareFile(job.file, job.spec, job.maxPixels, { out: job.out, offset: job.offset }, 'sync').then((prepared) => {
    const reply: PrepareReply = 'input' in prepared ? { id: job.id, ok: true } : { id: job.id, ok: false, failure: prepared };
    port.postMessage(reply);
  });
});
