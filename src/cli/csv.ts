import { isFailure, type PredictionResult } from '../core/index.ts';

export const CSV_HEADER = ['file', 'label', 'score', 'error'] as const;

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
  for (const result of results) {
    const row = isFailure(result)
      ? [result.file, '', '', `${result.error.code}: ${result.error.message}`]
      : [result.file, result.label, result.score.toFixed(6), ''];
    lines.push(row.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
