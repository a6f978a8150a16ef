import { isFailure, type PredictionResult } from '../core/index.ts';

export const CSV_HEADER = ['file', 'label', 'score', 'error'] as const;
/** The header of a run with test-time augmentation: every row also names its --tta setting. */
export const CSV_TTA_HEADER = [...CSV_HEADER, 'tta'] as const;

/** The header for a run: `tta` (a setting other than off) adds its column. */
export const csvHeader = (tta?: string) => (tta === undefined ? CSV_HEADER : CSV_TTA_HEADER).join(',');

/**
 * Quotes a field per RFC 4180 when it holds a comma, quote or line break (photo names do:
 * "boot (12), brown.jpg"); embedded quotes are doubled. Spaces need no quoting.
 */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * One row per result, in order: `file,label,score,error`. Predictions leave `error` empty;
 * failures leave `label` and `score` empty and put `code: reason` in `error`. Lines end in CRLF
 * as RFC 4180 specifies; spreadsheets, pandas and Python's csv module all read it.
 */
export function toCsv(results: Iterable<PredictionResult>): string {
  const lines = [CSV_HEADER.join(',')];
  for (const result of results) lines.push(csvRow(result));
  return lines.join('\r\n') + '\r\n';
}

/** One result as a CSV line, without its line end (see toCsv); `tta` fills the column csvHeader(tta) adds. */
export function csvRow(result: PredictionResult, tta?: string): string {
  const row = isFailure(result) ? [result.file, '', '', `${result.error.code}: ${result.error.message}`] : [result.file, result.label, result.score.toFixed(6), ''];
  if (tta !== undefined) row.push(tta);
  return row.map(csvField).join(',');
}

/**
 * The fields of one CSV record (its line end removed or not), undoing csvField's quoting;
 * undefined when its quotes do not close.
 */
export function parseCsvRecord(record: string): string[] | undefined {
  const text = record.replace(/\r?\n$/, '');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) return undefined;
        field += text.slice(i, quote);
        i = quote + 1;
        if (text[i] !== '"') break;
        field += '"';
        i++;
      }
    }
    const comma = text.indexOf(',', i);
    const end = comma < 0 ? text.length : comma;
    field += text.slice(i, end);
    fields.push(field);
    if (comma < 0) return fields;
    i = comma + 1;
  }
}
