import { quantile } from '../stats.ts';

// The "## Browser inference" table: one row per page (model folder x model file x backend), every
// photo's own time, and each row's speed against the same backend on the first folder's
// model.onnx as per-round ratios, so the noisy machine moves both sides of a ratio together.

export const HEADING = '## Browser inference';

export interface Config {
  /** Model folder as given on the command line. */
  folder: string;
  /** Input size the model was trained at, e.g. 224x224. */
  input: string;
  file: string;
  backend: 'wasm-1' | 'wasm-n' | 'webgpu';
}

export interface Measured {
  config: Config;
  /** What the page said it runs on, and with how many wasm threads. */
  shown: string;
  threads: number;
  /** Seconds from opening the page to "ready": download, ORT start, session creation. */
  openSeconds: number;
  /** Per round: each photo's ms (decode + resize + inference) and inference ms. */
  rounds: { ms: number[]; inferenceMs: number[] }[];
  right: number;
}

const fixed = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const median = (values: number[]) => quantile(values, 0.5);

function backendLabel(m: Measured): string {
  if (m.config.backend === 'webgpu') return `${m.shown} (SwiftShader: CPU emulation)`;
  return `${m.shown} (${m.config.backend === 'wasm-1' ? 'single-thread' : 'multi-thread'})`;
}

/** Per-round ratios of median ms/photo against `base`, as "median (min–max)". */
function ratio(m: Measured, base: Measured | undefined): string {
  if (!base || base === m) return '1';
  const ratios = m.rounds.map((r, i) => median(r.ms) / median(base.rounds[i].ms)).sort((a, b) => a - b);
  return `${median(ratios).toFixed(2)} (${ratios[0].toFixed(2)}–${ratios.at(-1)!.toFixed(2)})`;
}

export function medianMs(m: Measured): number {
  return median(m.rounds.flatMap((r) => r.ms));
}

export function table(measured: Measured[]): string[] {
  const first = measured[0]?.config.folder;
  const baseFor = (m: Measured) => measured.find((b) => b.config.folder === first && b.config.file === 'model.onnx' && b.config.backend === m.config.backend);
  return [
    '| model folder | input | model file | backend | threads | photos | right | median ms/photo | p90 ms/photo | median inference ms | round medians ms (min–max) | × first model.onnx, same backend (per-round median, min–max) | page ready s |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |',
    ...measured.map((m) => {
      const ms = m.rounds.flatMap((r) => r.ms);
      const infer = m.rounds.flatMap((r) => r.inferenceMs);
      const roundMedians = m.rounds.map((r) => median(r.ms)).sort((a, b) => a - b);
      return `| ${m.config.folder} | ${m.config.input} | ${m.config.file} | ${backendLabel(m)} | ${m.threads} | ${ms.length} | ${m.right}/${ms.length} | ${fixed(median(ms))} | ${fixed(quantile(ms, 0.9))} | ${fixed(median(infer))} | ${fixed(roundMedians[0])}–${fixed(roundMedians.at(-1)!)} | ${ratio(m, baseFor(m))} | ${m.openSeconds.toFixed(1)} |`;
    }),
  ];
}

/** One line per wasm row against the 40 ms goal, fastest first. */
export function goalLines(measured: Measured[], goalMs: number): string[] {
  const wasm = measured.filter((m) => m.config.backend !== 'webgpu').sort((a, b) => medianMs(a) - medianMs(b));
  return wasm.map((m) => {
    const ms = medianMs(m);
    return `- ${m.config.input} ${m.config.file}, ${backendLabel(m)}: ${fixed(ms)} ms/photo, ${ms <= goalMs ? 'meets' : 'misses'} the ${goalMs} ms goal`;
  });
}
