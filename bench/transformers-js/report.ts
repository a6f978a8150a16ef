// The "## Against transformers.js" section: per-round numbers, medians and spreads, right counts.
import { quantile } from '../stats.ts';
import type { CommandRun } from './run.ts';

export const HEADING = '## Against transformers.js';
/** What the issue reported and asks to keep: 247 vs 104 photos/s, 1766 vs 1694 of 1800 right. */
export const ISSUE = { ratio: 2.4, footwearRight: 1766, transformersRight: 1694 } as const;

export interface Round {
  load: number;
  footwear: CommandRun;
  transformers: CommandRun;
}

export interface ReportInput {
  rounds: Round[];
  photos: number;
  machine: string;
  loadStart: number;
  loadEnd: number;
  date: string;
  command: string;
  footwearCommand: string;
  transformersCommand: string;
  versions: { footwear: Record<string, string>; transformers: Record<string, string> };
  inputSize: string;
  cores: number;
}

const rate = (run: CommandRun) => run.photos / run.seconds;
const cpuMs = (run: CommandRun) => (run.cpuSeconds / run.photos) * 1000;
const median = (xs: number[]) => quantile(xs, 0.5);
const spread = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
const MiB = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const list = (xs: number[]) => [...new Set(xs)].join(' / ');
const versions = (v: Record<string, string>) =>
  Object.entries(v)
    .map(([k, x]) => `${k} ${x}`)
    .join(', ');

export function summary(rounds: Round[]) {
  const speed = rounds.map((r) => rate(r.footwear) / rate(r.transformers));
  const cpu = rounds.map((r) => cpuMs(r.transformers) / cpuMs(r.footwear));
  return { speed: median(speed), speedSpread: spread(speed, 2), cpu: median(cpu), cpuSpread: spread(cpu, 2) };
}

export function markdown(input: ReportInput): string {
  const { rounds, photos } = input;
  const s = summary(rounds);
  const fwRight = rounds.map((r) => r.footwear.right);
  const tjsRight = rounds.map((r) => r.transformers.right);
  const kept = s.speed > 1 && Math.min(...fwRight) > Math.max(...tjsRight);
  const rows = rounds.map(
    (r, i) =>
      `| ${i + 1} | ${r.load} | ${rate(r.footwear).toFixed(1)} | ${rate(r.transformers).toFixed(1)} | ${(rate(r.footwear) / rate(r.transformers)).toFixed(2)}x | ` +
      `${cpuMs(r.footwear).toFixed(1)} | ${cpuMs(r.transformers).toFixed(1)} | ${(cpuMs(r.transformers) / cpuMs(r.footwear)).toFixed(2)}x |`,
  );
  return [
    `- machine: ${input.machine}; 1-minute load average ${input.loadStart} at the start and ${input.loadEnd} at the end (shared with other work; the sides ran alternately, first one then the other, so each round's pair saw the same load)`,
    `- date: ${input.date}`,
    `- command: \`${input.command}\``,
    `- footwear: \`${input.footwearCommand}\` (${versions(input.versions.footwear)})`,
    `- transformers.js: \`${input.transformersCommand}\`, bench/transformers-js/classify.mjs: \`pipeline('image-classification', folder, { local_files_only: true, device: 'cpu', dtype: 'fp32' })\` with \`env.allowRemoteModels = false\`, over the same photos in the same batches (${versions(input.versions.transformers)}; installed by the bench into its own folder under the OS temp folder, not into footwear's dependencies)`,
    `- the same weights: the Hugging Face folder holds footwear's model.onnx with a Transpose in front (transformers.js feeds NCHW \`pixel_values\`, the model takes NHWC) and its final Softmax taken off (the pipeline applies its own to \`logits\`); test/transformers-js-model.test.ts checks the probabilities agree within 1e-5 on a real photo`,
    `- preprocessing differs, and that is the accuracy gap: footwear letterboxes each photo into ${input.inputSize} on white, as the model was trained; transformers.js's image processor cannot (it can keep the aspect ratio but pads only at the bottom and right, with black), so it stretches the 4:3 photos to ${input.inputSize}`,
    `- photos/s is ${photos} photos over the whole command, from spawn to exit (Node start, model load, every photo read, decoded, resized and classified, results written); CPU is user + system seconds of the whole process (getrusage at exit, all threads), per photo`,
    '',
    '| round | load | footwear photos/s | transformers.js photos/s | speed ratio | footwear CPU ms/photo | transformers.js CPU ms/photo | CPU ratio |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `| | footwear | transformers.js |`,
    '| --- | ---: | ---: |',
    `| median photos/s | ${median(rounds.map((r) => rate(r.footwear))).toFixed(1)} | ${median(rounds.map((r) => rate(r.transformers))).toFixed(1)} |`,
    `| median CPU ms/photo | ${median(rounds.map((r) => cpuMs(r.footwear))).toFixed(1)} | ${median(rounds.map((r) => cpuMs(r.transformers))).toFixed(1)} |`,
    `| median peak RSS | ${MiB(median(rounds.map((r) => r.footwear.maxRssBytes)))} MiB | ${MiB(median(rounds.map((r) => r.transformers.maxRssBytes)))} MiB |`,
    `| right of ${photos} | ${list(fwRight)} | ${list(tjsRight)} |`,
    '',
    `footwear / transformers.js, median of the per-round ratios: **${s.speed.toFixed(2)}x the photos/s** (spread ${s.speedSpread}) and **${s.cpu.toFixed(2)}x the photos per CPU-second** (spread ${s.cpuSpread}).`,
    ...(input.loadStart > input.cores
      ? ['', `The load was above the ${input.cores} cores, so both commands waited for CPU and their photos/s moved with the other work; the photos per CPU-second ratio moves less with it.`]
      : []),
    '',
    `The issue reported ${ISSUE.ratio}x (247 vs 104 photos/s) and ${ISSUE.footwearRight} vs ${ISSUE.transformersRight} right. ` +
      `The lead (faster and more right) is ${kept ? 'kept' : 'NOT kept'} here; ${s.speed >= ISSUE.ratio ? `the ${ISSUE.ratio}x is matched` : `the ${ISSUE.ratio}x is missed (${s.speed.toFixed(2)}x)`}.`,
  ].join('\n');
}
