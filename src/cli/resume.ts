import path from 'node:path';
import type { InputRoot, ListedEntry } from '../data/index.ts';
import { UsageError } from './errors.ts';
import { parseRecord, readRecords, type OutputFormat } from './records.ts';

// --resume: which listed files already have a row in the output. Holding every done path in a
// set would cost memory in proportion to the catalogue (about 1 GB for 10 million paths), so
// this leans on order instead: predict writes rows in listing order, and the listing order is a
// total order on paths (input by input; below a folder, by path segments compared as names). So
// the output is read alongside the listing like a merge, in constant memory. A resumed run that
// found new files between old rows appends them after, which starts a new ordered run of rows;
// each run gets its own reader, and runs are few (one per resume that found such files).

/** Where a path sits in the listing order: its input, then its path below that input. */
interface Position {
  input: number;
  relative: string;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Compares positions in listing order: input first, then path segments as a folder walk sorts them. */
export function compareListed(a: Position, b: Position): number {
  if (a.input !== b.input) return a.input - b.input;
  if (a.relative === b.relative) return 0;
  const x = a.relative.split('/');
  const y = b.relative.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const order = byName(x[i], y[i]);
    if (order !== 0) return order;
  }
  return x.length - y.length;
}

/** The position a row's file has in this run's listing, or undefined when no input lists it. */
export function locate(file: string, roots: readonly InputRoot[]): Position | undefined {
  for (const [input, root] of roots.entries()) {
    if (root.kind !== 'folder') {
      if (file === root.path) return { input, relative: '' };
      continue;
    }
    if (!file.startsWith(root.prefix) || file.length === root.prefix.length) continue;
    const relative = file.slice(root.prefix.length);
    // Below '.', the prefix is empty: a path that climbs out or is absolute is not inside it.
    if (root.prefix === '' && (path.isAbsolute(relative) || relative === '..' || relative.startsWith(`..${path.sep}`))) continue;
    return { input, relative: path.sep === '/' ? relative : relative.split(path.sep).join('/') };
  }
  return undefined;
}

export interface OutputScan {
  /** Bytes worth keeping: complete records, without a trailing summary or a record cut short. */
  keep: number;
  /** Whether the kept part starts with the CSV header (JSON Lines have none). */
  header: boolean;
  rows: number;
  failed: number;
  /** Byte ranges of rows in listing order, one per ordered run. */
  runs: { start: number; end: number }[];
}

/**
 * The one line refusing to mix --tta settings in one output: its rows would no longer be one
 * model's answers to one question, and nothing in the finished file would tell them apart.
 */
function ttaMismatch(flag: string, file: string, tta: string, earlier: string): UsageError {
  return new UsageError(`${flag} ${file}: cannot resume with --tta ${tta}: its rows were made with --tta ${earlier}; give --tta ${earlier}, or write to another file`);
}

/**
 * Reads an earlier output through once: what to keep, its counts, and its ordered runs. `tta` is
 * this run's setting ('off' by default); rows made with another are refused.
 */
export async function scanOutput(file: string, format: OutputFormat, roots: readonly InputRoot[], flag: string, tta = 'off'): Promise<OutputScan> {
  const scan: OutputScan = { keep: 0, header: false, rows: 0, failed: 0, runs: [] };
  let previous: Position | undefined;
  let runStart = 0;
  let number = 0;
  for await (const record of readRecords(file, format)) {
    number++;
    if (!record.complete) break; // cut short by the kill that ended the earlier run: done again
    const parsed = parseRecord(record.text, format, number === 1);
    if (parsed.kind === 'bad') {
      throw new UsageError(`${flag} ${file}: cannot resume: ${format === 'csv' ? 'record' : 'line'} ${number} is not a footwear predict row (${parsed.why}); was it written by footwear predict ${flag}?`);
    }
    if (parsed.kind === 'summary') continue; // not kept unless rows follow (see keep below)
    if (parsed.kind === 'header') {
      // A header alone (a run killed before its first row) still fixes the CSV's columns.
      if (parsed.tta !== (tta !== 'off')) {
        throw new UsageError(`${flag} ${file}: cannot resume with --tta ${tta}: it was started ${parsed.tta ? 'with' : 'without'} test-time augmentation (its header ${parsed.tta ? 'has' : 'has no'} tta column); give the --tta it was started with, or write to another file`);
      }
      scan.header = true;
    }
    scan.keep = record.end;
    if (parsed.kind !== 'row') continue;
    if (parsed.tta !== tta) throw ttaMismatch(flag, file, tta, parsed.tta);
    scan.rows++;
    if (parsed.failed) scan.failed++;
    const position = locate(parsed.file, roots);
    if (!position) continue;
    if (previous && compareListed(position, previous) < 0) {
      scan.runs.push({ start: runStart, end: record.start });
      runStart = record.start;
    }
    previous = position;
  }
  if (previous) scan.runs.push({ start: runStart, end: scan.keep });
  return scan;
}

/** One ordered run of an earlier output, read forward in step with the listing. */
class RunReader {
  private head?: Position;
  private constructor(private readonly rows: AsyncGenerator<Position>) {}

  static async open(file: string, format: OutputFormat, range: { start: number; end: number }, roots: readonly InputRoot[]): Promise<RunReader> {
    async function* positions(): AsyncGenerator<Position> {
      for await (const record of readRecords(file, format, range.start, range.end)) {
        // The header (at offset 0) and summaries are not rows; scanOutput has checked the rest.
        const parsed = parseRecord(record.text, format, record.start === 0);
        if (parsed.kind !== 'row') continue;
        const position = locate(parsed.file, roots);
        if (position) yield position;
      }
    }
    const reader = new RunReader(positions());
    await reader.advance();
    return reader;
  }

  /** Whether this run holds `entry`'s row; rows before it, which the listing has passed, are skipped. */
  async take(entry: Position): Promise<boolean> {
    while (this.head && compareListed(this.head, entry) < 0) await this.advance();
    if (!this.head || compareListed(this.head, entry) !== 0) return false;
    await this.advance();
    return true;
  }

  async close(): Promise<void> {
    await this.rows.return(undefined);
  }

  private async advance(): Promise<void> {
    const next = await this.rows.next();
    this.head = next.done ? undefined : next.value;
  }
}

/** The rows of an earlier output, asked about in listing order. */
export class DoneFiles {
  private constructor(private readonly runs: RunReader[]) {}

  static async open(file: string, format: OutputFormat, scan: OutputScan, roots: readonly InputRoot[]): Promise<DoneFiles> {
    return new DoneFiles(await Promise.all(scan.runs.map((range) => RunReader.open(file, format, range, roots))));
  }

  /** Whether `entry` has a row; entries must be asked in listing order. */
  async has(entry: Pick<ListedEntry, 'input' | 'relative'>): Promise<boolean> {
    let found = false;
    for (const run of this.runs) if (await run.take(entry)) found = true;
    return found;
  }

  async close(): Promise<void> {
    await Promise.all(this.runs.map((run) => run.close()));
  }
}
