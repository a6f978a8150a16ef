import { registerRuntime } from '../core/index.ts';

// Side-effect module, imported by src/node/index.ts: makes onnxruntime-node the preferred runtime.
// Loaded lazily, so a platform without its native binding gets a reason from resolveRuntime
// instead of a crash at import.
registerRuntime('onnxruntime-node', async () => (await import('./runtime.ts')).nodeRuntime, 100);
