import { prepareFile } from './prepare.ts';
import type { PrepareJob, PrepareReply } from './prepare-protocol.ts';
import { hostWorker } from './worker-host.ts';

// Preprocessing worker thread: reads, decodes and resizes photos into shared batch buffers, so
// the thread running ONNX Runtime (whose `run` blocks it) never spends time on pixels.

await hostWorker<undefined, void, PrepareJob, PrepareReply>({
  async run(job) {
    const prepared = await prepareFile(job.file, job.spec, job.maxPixels, { out: job.out, offset: job.offset }, 'sync');
    return { result: 'input' in prepared ? { ok: true } : { ok: false, failure: prepared } };
  },
});
