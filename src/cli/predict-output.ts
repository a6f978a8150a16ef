import { once } from 'node:events';
import { copyFile, mkdir, open, rename, stat, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { PredictionResult } from '../core/index.ts';
import { OutputError } from '../node/index.ts';
import { csvHeader, csvRow } from './csv.ts';
import type { OutputFormat } from './records.ts';

// Where predict's rows go as they are ready: JSON Lines or CSV, on stdout ('-') or in a file.
// A file is written as FILE.partial and renamed to FILE once the run is complete, so FILE is
// only ever a finished output (the previous run's until then), and a killed run leaves its rows
// in FILE.partial for --resume. Rows go to the operating system as they come, so a killed
// process loses none it wrote; the last one may be cut short, which --resume drops and redoes.

export interface OutputTarget {
  format: OutputFormat;
  /** A file, or '-' for stdout. */
  path: string;
  /** The flag that named it, for messages. */
  flag: string;
  /** The --tta setting, when not off: every row then records it (a CSV in its own column). */
  tta?: string;
}

export const partialPath = (target: string) => `${target}.partial`;

const lineEnd = (format: OutputFormat) => (format === 'csv' ? '\r\n' : '\n');
const cannotWrite = (target: string, error: NodeJS.ErrnoException) => new OutputError(`cannot write ${target}: ${error.code ?? error.message}`, error);

/**
 * The file a resumed run continues: FILE.partial when a run was cut short, else a copy of a
 * finished FILE (copied, not moved, so FILE stays whole until the new one replaces it), else
 * none. `keep` bytes of it are kept afterwards (see OutputWriter.open).
 */
export async function resumeSource(target: string): Promise<{ file: string; from: 'partial' | 'complete' } | undefined> {
  const partial = partialPath(target);
  if (await exists(partial)) return { file: partial, from: 'partial' };
  if (!(await exists(target))) return undefined;
  await copyFile(target, partial).catch((error: NodeJS.ErrnoException) => {
    throw cannotWrite(partial, error);
  });
  return { file: partial, from: 'complete' };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw cannotWrite(file, error);
    },
  );
}

export class OutputWriter {
  private rows = 0;
  /** Set once the stream fails (a full disk, a reader gone): every later write throws it. */
  private failure?: OutputError;
  private readonly failed: Promise<never>;

  private constructor(
    private readonly target: OutputTarget,
    private readonly stream: Writable,
    private readonly handle?: FileHandle,
  ) {
    this.failed = new Promise<never>((_, reject) =>
      stream.once('error', (error: NodeJS.ErrnoException) => {
        this.failure = cannotWrite(this.current, error);
        reject(this.failure);
      }),
    );
    this.failed.catch(() => {}); // observed by the writes that wait on it
  }

  /**
   * Starts writing. `resume` continues the target's partial file, whose first `keep` bytes are
   * kept (complete rows, and the CSV header when `header`); otherwise the output starts afresh.
   */
  static async open(target: OutputTarget, resume?: { keep: number; header: boolean }): Promise<OutputWriter> {
    if (target.path === '-') {
      const writer = new OutputWriter(target, process.stdout);
      if (target.format === 'csv') await writer.line(csvHeader(target.tta));
      return writer;
    }
    const partial = partialPath(target.path);
    await mkdir(path.dirname(target.path), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      throw cannotWrite(target.path, error);
    });
    let handle: FileHandle;
    try {
      if (resume) await truncate(partial, resume.keep);
      handle = await open(partial, resume ? 'a' : 'w');
    } catch (error) {
      throw cannotWrite(partial, error as NodeJS.ErrnoException);
    }
    const writer = new OutputWriter(target, handle.createWriteStream({ autoClose: false, encoding: 'utf8' }), handle);
    if (target.format === 'csv' && !resume?.header) await writer.line(csvHeader(target.tta));
    return writer;
  }

  /** Rows written by this writer (not counting those kept from an earlier run). */
  get written(): number {
    return this.rows;
  }

  /** Where rows are going now: FILE.partial, or '-'. */
  get current(): string {
    return this.target.path === '-' ? '-' : partialPath(this.target.path);
  }

  async write(result: PredictionResult): Promise<void> {
    const { format, tta } = this.target;
    await this.line(format === 'csv' ? csvRow(result, tta) : JSON.stringify(tta === undefined ? result : { ...result, tta }));
    this.rows++;
  }

  /**
   * Ends the output: JSON Lines get `summary` as a last line ({"summary": ...}, told from rows by
   * having no "file"); a file is flushed to disk and renamed over FILE.
   */
  async finish(summary?: object): Promise<void> {
    if (summary && this.target.format === 'jsonl') await this.line(JSON.stringify({ summary }));
    if (!this.handle) return;
    await this.close();
    try {
      await rename(partialPath(this.target.path), this.target.path);
    } catch (error) {
      throw cannotWrite(this.target.path, error as NodeJS.ErrnoException);
    }
  }

  /** Stops writing and leaves FILE.partial for --resume. */
  async abandon(): Promise<void> {
    if (this.handle) await this.close().catch(() => {});
  }

  private async close(): Promise<void> {
    const done = once(this.stream, 'finish');
    this.stream.end();
    await Promise.race([done, this.failed]);
    try {
      await this.handle?.sync();
    } catch (error) {
      throw cannotWrite(this.current, error as NodeJS.ErrnoException);
    } finally {
      // The stream holds the handle until it is destroyed: closing the handle first would wait forever.
      const closed = this.stream.closed ? undefined : once(this.stream, 'close');
      this.stream.destroy();
      await closed;
      await this.handle?.close();
    }
  }

  /** Writes one line, waiting while the stream's buffer is full, so a slow disk or reader holds back the classifier rather than memory. */
  private async line(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(text + lineEnd(this.target.format))) await Promise.race([once(this.stream, 'drain'), this.failed]);
  }
}
