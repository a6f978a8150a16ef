import { createReadStream } from 'node:fs';
import { CSV_HEADER, CSV_TTA_HEADER, parseCsvRecord } from './csv.ts';

// Reading predict's own outputs back, for --resume: records with their byte offsets, so a reader
// can start anywhere and a writer can cut a record left half-written by a killed run. UTF-8
// never uses the bytes of '\n' or '"' inside a character, so records are found byte by byte.

export type OutputFormat = 'jsonl' | 'csv';

export interface RawRecord {
  text: string;
  /** Byte offsets in the file: [start, end). */
  start: number;
  end: number;
  /** Whether it ends with its line end; a record that does not was cut short. */
  complete: boolean;
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;

/** The records of `file` between byte offsets `start` and `end` (default: its end). */
export async function* readRecords(file: string, format: OutputFormat, start = 0, end?: number): AsyncGenerator<RawRecord> {
  if (end !== undefined && end <= start) return;
  // createReadStream's end is inclusive.
  const stream = createReadStream(file, { start, ...(end !== undefined && { end: end - 1 }), highWaterMark: 1 << 16 });
  let parts: Buffer[] = [];
  let recordStart = start;
  let inQuotes = false;
  const take = (last: Buffer, complete: boolean): RawRecord => {
    const bytes = parts.length === 0 ? last : Buffer.concat([...parts, last]);
    parts = [];
    const record = { text: bytes.toString('utf8'), start: recordStart, end: recordStart + bytes.length, complete };
    recordStart = record.end;
    return record;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (;;) {
      let at: number;
      if (format === 'jsonl') {
        at = chunk.indexOf(NEWLINE, from);
      } else {
        // A CSV record ends at a line end outside quotes: a file name may hold a line break.
        at = -1;
        for (let i = from; i < chunk.length; i++) {
          if (chunk[i] === QUOTE) inQuotes = !inQuotes;
          else if (chunk[i] === NEWLINE && !inQuotes) {
            at = i;
            break;
          }
        }
      }
      if (at < 0) break;
      yield take(chunk.subarray(from, at + 1), true);
      from = at + 1;
    }
    if (from < chunk.length) parts.push(chunk.subarray(from));
  }
  if (parts.length > 0) yield take(Buffer.alloc(0), false);
}

/**
 * A row names the --tta setting that made it ('off' when it says none: rows without test-time
 * augmentation are written as before it existed); a CSV header says whether rows have the column.
 */
export type OutputRecord = { kind: 'row'; file: string; failed: boolean; tta: string } | { kind: 'header'; tta: boolean } | { kind: 'summary' } | { kind: 'blank' } | { kind: 'bad'; why: string };

/** What one complete record of a predict output is; `first` says whether it starts the file. */
export function parseRecord(text: string, format: OutputFormat, first: boolean): OutputRecord {
  if (text.trim() === '') return { kind: 'blank' };
  if (format === 'csv') {
    const fields = parseCsvRecord(text);
    if (!fields) return { kind: 'bad', why: 'its quotes do not close' };
    if (first) {
      const header = fields.join(',');
      if (header === CSV_HEADER.join(',') || header === CSV_TTA_HEADER.join(',')) return { kind: 'header', tta: fields.length === CSV_TTA_HEADER.length };
      return { kind: 'bad', why: `the header is not ${CSV_HEADER.join(',')}` };
    }
    return { kind: 'row', file: fields[0], failed: (fields[3] ?? '') !== '', tta: fields[4] || 'off' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'bad', why: 'it is not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { kind: 'bad', why: 'it is not a JSON object' };
  if ('summary' in value) return { kind: 'summary' };
  const file = (value as { file?: unknown }).file;
  if (typeof file !== 'string') return { kind: 'bad', why: 'it has no "file"' };
  const tta = (value as { tta?: unknown }).tta;
  return { kind: 'row', file, failed: 'error' in value, tta: tta === undefined ? 'off' : String(tta) };
}
