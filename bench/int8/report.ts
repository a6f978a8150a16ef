import { readFile } from 'node:fs/promises';
import { quantile } from '../stats.ts';
import type { SpeedPlan } from './speed.ts';

/** The /proc/cpuinfo flags that decide which int8 kernels ONNX Runtime's MLAS can use. */
const INT8_FLAGS = ['avx2', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_tile', 'amx_int8'];

/** Each int8-relevant flag, present or not; undefined where /proc/cpuinfo cannot be read (not Linux). */
export async function cpuFlags(): Promise<Record<string, boolean> | undefined> {
  try {
    const line = (await readFile('/proc/cpuinfo', 'utf8')).split('\n').find((l) => l.startsWith('flags')) ?? '';
    const flags = new Set(line.split(':')[1]?.trim().split(/\s+/));
    return Object.fromEntries(INT8_FLAGS.map((f) => [f, flags.has(f)]));
  } catch {
    return undefined;
  }
}

export interface SweepRow {
  name: string;
  bytes: number;
  right: number;
  same: number;
  lossPoints: number;
  speed: { batch: number; median: number; min: number; max: number; fp32: number[]; int8: number[] }[];
}

export interface SweepReport {
  command: string;
  machine: string;
  flags: Record<string, boolean> | undefined;
  date: string;
  loads: number[];
  n: number;
  fp32Right: number;
  fp32Bytes: number;
  rows: SweepRow[];
  maxLoss: number;
  fastest: string | undefined;
  shipped: string;
  /** What "default" means, in words. */
  defaultDescription: string;
  calibration: string;
  rounds: number;
  plans: readonly SpeedPlan[];
}

const pct = (part: number, whole: number) => ((100 * part) / whole).toFixed(2);
const x = (v: number) => `${v.toFixed(2)}x`;
const rate = (values: number[]) => quantile(values, 0.5).toFixed(0);

export function renderSection(r: SweepReport): string {
  const flags = r.flags ? Object.entries(r.flags).map(([f, on]) => `${f} ${on ? 'yes' : 'no'}`).join(', ') : 'unknown (no /proc/cpuinfo)';
  const speedHeads = r.plans.map((p) => `batch ${p.batch}: int8/fp32 median (min-max) | batch ${p.batch} img/s fp32 / int8`);
  const lines = [
    `Machine: ${r.machine}. CPU flags for int8: ${flags}.`,
    `Command: \`${r.command}\`; ${r.date}; 1-minute load at the start, after building, after the accuracy pass, after timing: ${r.loads.join(', ')}.`,
    '',
    `Every variant is built from the same float32 model.onnx (${(r.fp32Bytes / 1e6).toFixed(1)} MB) with the same calibration (${r.calibration}), then classifies the ${r.n} test photos next to float32 (float32: ${r.fp32Right}/${r.n} right, ${pct(r.fp32Right, r.n)}%). Speed is the model alone on ready tensors through the project's runtime (onnxruntime-node, CPU provider, graph optimisation "all", default threads, for float32 too): ${r.rounds} paired rounds, in each of which every variant and float32 take turns run by run (${r.plans.map((p) => `${p.images} images at batch ${p.batch}`).join(', ')} per side); the ratio is the median of the per-round ratios, with the lowest and highest round; img/s are medians over the rounds.`,
    '',
    `| variant | size | right | vs fp32 (points) | same label as fp32 | ${speedHeads.join(' | ')} |`,
    `|---|---|---|---|---|${r.plans.map(() => '---|---|').join('')}`,
    ...r.rows.map((row) => {
      const speed = row.speed.map((s) => `${x(s.median)} (${x(s.min)}-${x(s.max)}) | ${rate(s.fp32)} / ${rate(s.int8)}`);
      const loss = row.lossPoints === 0 ? '0' : (-row.lossPoints).toFixed(2);
      return `| ${row.name} | ${(row.bytes / 1e6).toFixed(2)} MB | ${row.right} (${pct(row.right, r.n)}%) | ${loss} | ${pct(row.same, r.n)}% | ${speed.join(' | ')} |`;
    }),
    '',
    `"default" is ${r.defaultDescription}; each other row changes what it names. Fastest at batch ${r.plans[0].batch} within ${r.maxLoss} points of float32 on this model: ${r.fastest ?? 'none'}. \`footwear convert --quantize int8\` writes: ${r.shipped} (DEFAULT_INT8 in src/convert/quantize/variant.ts, whose comment gives the reasons where the two differ).`,
  ];
  return lines.join('\n');
}
