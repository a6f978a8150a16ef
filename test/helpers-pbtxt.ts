// A reader for protobuf text format (what Triton's config.pbtxt is written in), written for the
// tests apart from src/deploy/pbtxt.ts's writer, so a mistake in one is not mirrored by the other.
// It follows the format's grammar rather than the writer's layout: fields with or without ":",
// messages in {} or <>, lists in [], "," or ";" between fields, # comments, repeated fields.

export class PbIdent {
  constructor(readonly name: string) {}
}
export type PbRead = string | number | PbIdent | PbFields;
/** Every field name maps to all its values in order (a repeated field has several). */
export type PbFields = { [field: string]: PbRead[] };

type Token = { kind: 'ident' | 'number' | 'string' | 'punct'; text: string; value?: string | number; at: number };

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', "'": "'", '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v', '?': '?' };

/** A string literal's bytes (escapes are bytes, as in protobuf), read back as UTF-8. */
function unescape(body: string, at: number): string {
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') {
      const char = String.fromCodePoint(body.codePointAt(i) as number);
      bytes.push(...Buffer.from(char, 'utf8'));
      i += char.length - 1;
      continue;
    }
    const c = body[++i];
    if (c in SIMPLE_ESCAPES) bytes.push(SIMPLE_ESCAPES[c].charCodeAt(0));
    else if (/[0-7]/.test(c)) {
      const octal = (/^[0-7]{1,3}/.exec(body.slice(i)) as RegExpExecArray)[0];
      bytes.push(parseInt(octal, 8));
      i += octal.length - 1;
    } else if (c === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 1));
      if (!hex) throw new Error(`pbtxt: bad \\x escape at offset ${at}`);
      bytes.push(parseInt(hex[0], 16));
      i += hex[0].length;
    } else throw new Error(`pbtxt: unknown escape \\${c} at offset ${at}`);
  }
  return Buffer.from(bytes).toString('utf8');
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s+|#[^\n]*|([A-Za-z_][A-Za-z0-9_.]*)|(-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+))|"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|([:{}[\],;<>])/y;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const m = pattern.exec(text);
    if (!m) throw new Error(`pbtxt: unexpected ${JSON.stringify(text.slice(at, at + 20))} at offset ${at}`);
    if (m[1] !== undefined) tokens.push({ kind: 'ident', text: m[1], at });
    else if (m[2] !== undefined) tokens.push({ kind: 'number', text: m[2], value: Number(m[2]), at });
    else if (m[3] !== undefined || m[4] !== undefined) {
      // Adjacent string literals concatenate, as in C.
      const value = unescape((m[3] ?? m[4]) as string, at);
      const last = tokens[tokens.length - 1];
      if (last?.kind === 'string') last.value = `${last.value as string}${value}`;
      else tokens.push({ kind: 'string', text: m[0], value, at });
    } else if (m[5] !== undefined) tokens.push({ kind: 'punct', text: m[5], at });
    at = pattern.lastIndex;
  }
  return tokens;
}

export function parsePbtxt(text: string): PbFields {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const expect = (punct: string) => {
    const t = tokens[i++];
    if (t?.kind !== 'punct' || t.text !== punct) throw new Error(`pbtxt: expected "${punct}" at offset ${t?.at ?? 'end'}, got ${t?.text ?? 'end of file'}`);
  };
  const closing: Record<string, string> = { '{': '}', '<': '>' };

  function message(end: string | undefined): PbFields {
    const fields: PbFields = {};
    for (;;) {
      const t = peek();
      if (!t) {
        if (end) throw new Error(`pbtxt: missing "${end}" at end of file`);
        return fields;
      }
      if (t.kind === 'punct' && t.text === end) {
        i++;
        return fields;
      }
      if (t.kind !== 'ident') throw new Error(`pbtxt: expected a field name at offset ${t.at}, got ${t.text}`);
      i++;
      const name = t.text;
      const colon = peek()?.kind === 'punct' && peek().text === ':';
      if (colon) i++;
      const values = (fields[name] ??= []);
      const next = peek();
      if (next?.kind === 'punct' && next.text === '[') {
        i++;
        while (!(peek()?.kind === 'punct' && peek().text === ']')) {
          values.push(value(colon));
          if (peek()?.kind === 'punct' && peek().text === ',') i++;
        }
        expect(']');
      } else values.push(value(colon));
      if (peek()?.kind === 'punct' && (peek().text === ',' || peek().text === ';')) i++;
    }
  }

  function value(afterColon: boolean): PbRead {
    const t = tokens[i++];
    if (!t) throw new Error('pbtxt: value missing at end of file');
    if (t.kind === 'punct' && (t.text === '{' || t.text === '<')) return message(closing[t.text]);
    if (!afterColon && t.kind !== 'punct') throw new Error(`pbtxt: a scalar field needs ":" before its value at offset ${t.at}`);
    if (t.kind === 'string' || t.kind === 'number') return t.value as string | number;
    if (t.kind === 'ident') return new PbIdent(t.text);
    throw new Error(`pbtxt: unexpected "${t.text}" at offset ${t.at}`);
  }

  return message(undefined);
}

/** The one value of `field`; throws when it is missing or repeated. */
export function one(fields: PbFields, field: string): PbRead {
  const values = fields[field];
  if (!values || values.length !== 1) throw new Error(`expected exactly one "${field}", found ${values?.length ?? 0}`);
  return values[0];
}

export function oneMessage(fields: PbFields, field: string): PbFields {
  const value = one(fields, field);
  if (typeof value !== 'object' || value instanceof PbIdent) throw new Error(`"${field}" is not a message`);
  return value;
}

export function messages(fields: PbFields, field: string): PbFields[] {
  return (fields[field] ?? []).map((v) => {
    if (typeof v !== 'object' || v instanceof PbIdent) throw new Error(`"${field}" holds a non-message`);
    return v;
  });
}
