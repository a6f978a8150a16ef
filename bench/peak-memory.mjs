// Preloaded into a process under measurement (node --import ./bench/peak-memory.mjs ...): at
// exit, writes its peak resident memory (getrusage maxrss: every thread, native memory included)
// and the highest JS heap seen (sampled every 100 ms) as JSON to $FOOTWEAR_PEAK_MEMORY_FILE.
import { writeFileSync } from 'node:fs';
import { setInterval } from 'node:timers';

const target = process.env.FOOTWEAR_PEAK_MEMORY_FILE;
if (target) {
  let heap = process.memoryUsage().heapUsed;
  // unref: the sampler must not keep the process alive once its work is done.
  setInterval(() => (heap = Math.max(heap, process.memoryUsage().heapUsed)), 100).unref();
  process.on('exit', () => {
    heap = Math.max(heap, process.memoryUsage().heapUsed);
    writeFileSync(target, JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, peakHeapBytes: heap }));
  });
}
