// Preloaded into a command under measurement (node --import .../usage.mjs ...): at exit, writes
// the CPU seconds of the whole process (getrusage: every thread, ONNX Runtime's and the worker
// threads' included) and its peak resident memory as JSON to $FOOTWEAR_USAGE_FILE.
import { writeFileSync } from 'node:fs';

const target = process.env.FOOTWEAR_USAGE_FILE;
if (target) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(target, JSON.stringify({ cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssBytes: usage.maxRSS * 1024 }));
  });
}
