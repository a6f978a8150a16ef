// A writer for the protobuf text format that Triton reads its config.pbtxt in. Triton parses
// the file with protobuf's TextFormat against its ModelConfig message, so field names, enum
// identifiers (written bare) and strings (quoted) must be exact; this writes only those forms.

/** An enum value, written bare (TYPE_FP32), unlike a string, which is quoted. */
export class PbEnum {
  constructor(readonly name: string) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`not an enum identifier: ${JSON.stringify(name)}`);
  }
}

export type PbScalar = string | number | boolean | PbEnum;
export type PbValue = PbScalar | PbMessage | PbScalar[] | PbMessage[];
export interface PbMessage {
  [field: string]: PbValue | undefined;
}

const INDENT = '  ';

function isMessage(value: unknown): value is PbMessage {
  return typeof value === 'object' && value !== null && !(value instanceof PbEnum) && !Array.isArray(value);
}

function scalar(value: PbScalar): string {
  if (value instanceof PbEnum) return value.name;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} in a config`);
    return String(value);
  }
  return quote(value);
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A protobuf text string: UTF-8 kept as is, quotes and backslashes escaped, other controls in octal. */
function quote(value: string): string {
  // eslint-disable-next-line no-control-regex
  const body = value.replace(/[\\"\x00-\x1f\x7f]/g, (c) => ESCAPES[c] ?? `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return `"${body}"`;
}

function lines(message: PbMessage, depth: number, comments: Record<string, string[]> = {}): string[] {
  const pad = INDENT.repeat(depth);
  const out: string[] = [];
  for (const [field, value] of Object.entries(message)) {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    for (const comment of comments[field] ?? []) out.push(`${pad}# ${comment}`);
    if (Array.isArray(value)) {
      if (value.every(isMessage)) {
        out.push(`${pad}${field} [`);
        value.forEach((item, i) => {
          out.push(`${pad}${INDENT}{`, ...lines(item, depth + 2), `${pad}${INDENT}}${i < value.length - 1 ? ',' : ''}`);
        });
        out.push(`${pad}]`);
      } else {
        out.push(`${pad}${field}: [ ${(value as PbScalar[]).map(scalar).join(', ')} ]`);
      }
    } else if (isMessage(value)) {
      out.push(`${pad}${field} {`, ...lines(value, depth + 1), `${pad}}`);
    } else {
      out.push(`${pad}${field}: ${scalar(value)}`);
    }
  }
  return out;
}

/**
 * The message as protobuf text, fields in insertion order; `comments` go above the top-level
 * fields they are keyed by, as `#` lines (the format's comments), to say why a setting is there.
 */
export function formatPbtxt(message: PbMessage, comments: Record<string, string[]> = {}): string {
  return `${lines(message, 0, comments).join('\n')}\n`;
}
