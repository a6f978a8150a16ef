// Triton's classification extension: instead of a score tensor, an output requested with
// parameters.classification K comes back as BYTES of shape [batch, K], each element
// "value:index:label" (":label" only when the model has labels), best first. Written and read the
// way Triton does, so footwear serve answers Triton's clients and the remote runtime reads Triton.

export interface Classification {
  score: number;
  index: number;
  label?: string;
}

/**
 * `value` with 9 decimals as Triton prints it (C++ std::fixed, precision 9: printf's "%.9f", which
 * rounds an exact tie to even). toFixed rounds a tie away from zero, so exact ties are redone;
 * a float's exact decimal expansion fits in toFixed's 100 digits for any value that can be a tie.
 */
export function tritonFixed(value: number): string {
  const rounded = value.toFixed(9);
  const exact = value.toFixed(100);
  const point = exact.indexOf('.');
  if (!/^50*$/.test(exact.slice(point + 10))) return rounded;
  const truncated = exact.slice(0, point + 10);
  return Number(truncated.at(-1)) % 2 === 0 ? truncated : rounded;
}

/**
 * The top `count` classes of each of the rows of `scores` (`classes` values each), as Triton's
 * strings, row after row: [rows x min(count, classes)] elements. Ties keep the lower index first.
 */
export function classificationStrings(scores: Float32Array, classes: number, count: number, labels?: readonly string[]): string[] {
  const k = Math.min(count, classes);
  const out: string[] = [];
  for (let row = 0; row * classes < scores.length; row++) {
    const values = scores.subarray(row * classes, (row + 1) * classes);
    const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a] || a - b);
    for (const index of order.slice(0, k)) out.push(`${tritonFixed(values[index])}:${index}${labels ? `:${labels[index]}` : ''}`);
  }
  return out;
}

/** One "value:index[:label]" string; a label may itself hold colons. Undefined when it is not one. */
export function parseClassification(entry: string): Classification | undefined {
  const match = /^([^:]+):(\d+)(?::([\s\S]*))?$/.exec(entry);
  if (!match) return undefined;
  const score = Number(match[1]);
  if (!Number.isFinite(score)) return undefined;
  return { score, index: Number(match[2]), ...(match[3] !== undefined && { label: match[3] }) };
}
