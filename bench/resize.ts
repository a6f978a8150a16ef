// resizeToInput hot, JS passes against the wasm ones, on the shared photos' shape (136x102
// upscaled into 224x224 'contain'), a 1024x768 downscale and a 12-megapixel RGBA one. Run:
//   npm run bench:resize -- [iterations] [repeats] [--write]
// JS and wasm runs alternate, so a busy machine slows both alike; min and median are printed, and
// with --write kept in BENCHMARKS.md under "## Preprocessing: resize".
import os from 'node:os';
import { machine, writeSection } from './sections.ts';
import { defaultPreprocess } from '../src/core/index.ts';
import { resizeToInput } from '../src/core/index.ts';
import { resampleModule } from '../src/core/wasm/passes.ts';
import { setWasmResampling, wasmResampleRuns } from '../src/core/wasm/resample.ts';

const args = process.argv.slice(2).filter((a) => a !== '--write');
const write = process.argv.includes('--write');
const iterations = Number(args[0] ?? 500);
const repeats = Number(args[1] ?? 7);
const rows: string[] = [];

function photo(width: number, height: number, channels: number): Uint8Array {
  // Smooth gradients plus noise, like a decoded photo rather than all-equal bytes.
  let state = 12345;
  const out = new Uint8Array(width * height * channels);
  for (let i = 0; i < out.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const pixel = Math.floor(i / channels);
    out[i] = ((pixel % width) + Math.floor(pixel / width) + (state >>> 28)) & 255;
  }
  return out;
}

/** Milliseconds per call of `count` calls. */
function time(run: () => void, count: number): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) run();
  return (performance.now() - start) / count;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => ms.toFixed(3).padStart(7);

const spec = defaultPreprocess();
const out = new Float32Array(spec.width * spec.height * 3);
const cases = [
  { name: '136x102x3 -> 224x224 contain', width: 136, height: 102, channels: 3, count: iterations },
  { name: '136x102x4 -> 224x224 contain', width: 136, height: 102, channels: 4, count: iterations },
  { name: '1024x768x3 -> 224x224 contain', width: 1024, height: 768, channels: 3, count: Math.max(10, Math.round(iterations / 20)) },
  { name: '4000x3000x4 -> 224x224 contain', width: 4000, height: 3000, channels: 4, count: 2 },
];

console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} cores), Node ${process.version}`);
console.log(`wasm module: ${resampleModule().length} bytes; ${repeats} alternating runs per path\n`);
console.log('case                           JS min  JS median  wasm min  wasm median  speed-up (min, median)');
for (const c of cases) {
  const src = photo(c.width, c.height, c.channels);
  const run = () => resizeToInput(src, c.width, c.height, c.channels, spec, out);
  const js: number[] = [];
  const wasm: number[] = [];
  // Warm up both paths for half a second each: V8 optimises JS and tiers wasm up from its baseline compiler.
  for (const on of [false, true]) {
    setWasmResampling(on);
    for (const start = performance.now(); performance.now() - start < 500; ) run();
  }
  const before = wasmResampleRuns();
  for (let r = 0; r < repeats; r++) {
    setWasmResampling(false);
    js.push(time(run, c.count));
    setWasmResampling(true);
    wasm.push(time(run, c.count));
  }
  if (wasmResampleRuns() === before) throw new Error('the wasm path did not run');
  const line = [fmt(Math.min(...js)), `${fmt(median(js))}   `, ` ${fmt(Math.min(...wasm))}`, `${fmt(median(wasm))}     `, `${(Math.min(...js) / Math.min(...wasm)).toFixed(2)}x, ${(median(js) / median(wasm)).toFixed(2)}x`];
  console.log(`${c.name.padEnd(30)} ${line.join('  ')}`);
  const ms = (x: number) => x.toFixed(3);
  rows.push(`| ${c.name} | ${ms(Math.min(...js))} | ${ms(median(js))} | ${ms(Math.min(...wasm))} | ${ms(median(wasm))} | ${(median(js) / median(wasm)).toFixed(2)}x |`);
}

if (write) {
  const body = [
    `Our resampler (\`src/core/resize.ts\`, shared with the browser so both give the same bits) in its JS passes and in WebAssembly SIMD (\`src/core/wasm/\`, ${resampleModule().length}-byte module, same bits: test/resize-wasm.test.ts). Milliseconds per \`resizeToInput\` call, hot, ${repeats} alternating runs per path.`,
    '',
    `- machine: ${machine()}; 1-minute load average ${os.loadavg()[0].toFixed(2)} at the end`,
    `- date: ${new Date().toISOString()}`,
    `- command: \`npm run bench:resize -- ${iterations} ${repeats} --write\``,
    '',
    '| case | JS min ms | JS median ms | wasm min ms | wasm median ms | speed-up (median) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  await writeSection('## Preprocessing: resize', body);
  console.log('\nwrote "## Preprocessing: resize" in BENCHMARKS.md');
}
