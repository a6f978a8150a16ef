import { registerRuntime } from './runtime.ts';

// Side-effect module: registers the runtimes Node can use. Kept apart from runtime.ts so that a
// browser bundle can import the registry without pulling in onnxruntime-node.
registerRuntime('onnxruntime-node', async () => (await import('./node-runtime.ts')).nodeRuntime, 100);
