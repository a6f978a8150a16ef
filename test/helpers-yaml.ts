// A reader for the plain subset of YAML that deploy/ is written in, for the tests only (no YAML
// parser is a dependency; the `yaml` package would replace this). It is strict: anything outside
// the subset (anchors, tags, block scalars, multi-line or ambiguous plain scalars such as `yes`
// or `0755`, flow mappings) is an error naming the line, never a silently different reading.
//
// The subset: `---` between documents; block mappings and sequences (indented with spaces,
// a sequence may sit at its key's indent); `- key: value` items; scalars plain, 'single' or
// "double" quoted; one-line flow sequences of scalars `[a, "b"]`; `[]` and `{}`; # comments.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };
export type YamlMap = { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  no: number;
}

class YamlError extends Error {
  constructor(no: number, message: string) {
    super(`yaml line ${no}: ${message}`);
  }
}

/** The line without its comment: a # at the start or after a space, outside quotes. */
function stripComment(raw: string): string {
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]))) return raw.slice(0, i);
  }
  return raw;
}

function splitDocuments(text: string): Line[][] {
  const docs: Line[][] = [[]];
  text.split(/\r?\n/).forEach((raw, index) => {
    const no = index + 1;
    if (/^---\s*$/.test(raw)) return void docs.push([]);
    if (/^(\.\.\.|%)/.test(raw)) throw new YamlError(no, 'directives and "..." are outside the subset');
    const body = stripComment(raw).trimEnd();
    if (body.trim() === '') return;
    const indent = /^ */.exec(body)?.[0].length ?? 0;
    if (body[indent] === '\t') throw new YamlError(no, 'tab in indentation');
    docs[docs.length - 1].push({ indent, text: body.slice(indent), no });
  });
  return docs.filter((d) => d.length > 0);
}

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#[\]{},:&*!|>%@`-][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+|$)/;

// Plain scalars some YAML reader takes for a number though they are not a plain integer or
// decimal: leading zeros (octal in 1.1), underscores, exponents, bare dots, hex/octal, base 60, + signs.
const NUMBERISH = /^(?:[-+]?(?:0\d+|\d[\d_]*_[\d_]*|(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+|\.\d+|\d+\.|0x[\da-f]+|0o[0-7]+|\d+(?::[0-5]?\d)+(?:\.\d*)?|\.inf|\.nan)|\+\d.*)$/i;

function scalar(text: string, no: number): YamlValue {
  if (text.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(text)) throw new YamlError(no, `unterminated or trailing text after a "string": ${text}`);
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new YamlError(no, `escape outside the subset in ${text}`);
    }
  }
  if (text.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(text)) throw new YamlError(no, `unterminated or trailing text after a 'string': ${text}`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text.startsWith('[')) return flowSequence(text, no);
  if (text === '{}') return {};
  if (/^[{&*!|>%@`]/.test(text)) throw new YamlError(no, `"${text[0]}" (flow mapping, anchor, alias, tag or block scalar) is outside the subset`);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~') return null;
  if (/^-?(0|[1-9]\d*)$/.test(text)) return Number(text);
  if (/^-?(0|[1-9]\d*)\.\d+$/.test(text)) return Number(text);
  // YAML 1.1 (what Kubernetes reads) and 1.2 disagree on these; quote them to say which is meant.
  if (/^(yes|no|on|off|y|n|true|false|null)$/i.test(text)) throw new YamlError(no, `ambiguous plain scalar ${text}: quote it`);
  if (NUMBERISH.test(text)) throw new YamlError(no, `ambiguous number ${text}: quote it or write a plain integer/decimal`);
  if (/:\s|\s#/.test(text)) throw new YamlError(no, `plain scalar with ": " or " #" in it: quote it: ${text}`);
  return text;
}

function flowSequence(text: string, no: number): YamlValue[] {
  if (!text.endsWith(']')) throw new YamlError(no, `flow sequence must close on its line: ${text}`);
  const inner = text.slice(1, -1).trim();
  if (inner === '') return [];
  const items: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{' || c === ']' || c === '}') throw new YamlError(no, 'nested flow collections are outside the subset');
    else if (c === ',') {
      items.push(inner.slice(start, i).trim());
      start = i + 1;
    }
  }
  items.push(inner.slice(start).trim());
  if (items.some((item) => item === '')) throw new YamlError(no, `empty item in ${text}`);
  return items.map((item) => scalar(item, no));
}

function parseKey(raw: string, no: number): string {
  const key = raw.trim();
  if (key.startsWith('"') || key.startsWith("'")) return scalar(key, no) as string;
  return key;
}

class Parser {
  private i = 0;
  constructor(private readonly lines: Line[]) {}

  document(): YamlValue {
    const value = this.block(this.lines[0].indent);
    if (this.i < this.lines.length) throw new YamlError(this.lines[this.i].no, 'indentation does not match any open block');
    return value;
  }

  private block(indent: number): YamlValue {
    const line = this.lines[this.i];
    if (line.indent !== indent) throw new YamlError(line.no, `expected indentation ${indent}, got ${line.indent}`);
    if (line.text === '-' || line.text.startsWith('- ')) return this.sequence(indent);
    if (KEY.test(line.text)) return this.mapping(indent);
    this.i++;
    return scalar(line.text, line.no);
  }

  private sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let line = this.lines[this.i]; line && line.indent === indent && (line.text === '-' || line.text.startsWith('- ')); line = this.lines[this.i]) {
      const rest = line.text.slice(1);
      const content = rest.trimStart();
      if (content === '') {
        this.i++;
        const next = this.lines[this.i];
        if (!next || next.indent <= indent) throw new YamlError(line.no, 'empty sequence item (write null or a value)');
        items.push(this.block(next.indent));
      } else {
        // The item's content starts a block at its own column: "- key: v" then "  key2: v".
        this.lines[this.i] = { indent: indent + 1 + (rest.length - content.length), text: content, no: line.no };
        items.push(this.block(this.lines[this.i].indent));
      }
    }
    return items;
  }

  private mapping(indent: number): YamlMap {
    const map: YamlMap = {};
    for (let line = this.lines[this.i]; line && line.indent === indent; line = this.lines[this.i]) {
      const m = KEY.exec(line.text);
      if (!m) throw new YamlError(line.no, `expected "key: value", got ${line.text}`);
      const key = parseKey(m[1], line.no);
      if (Object.hasOwn(map, key)) throw new YamlError(line.no, `duplicate key ${key}`);
      const rest = line.text.slice(m[0].length).trim();
      this.i++;
      if (rest !== '') {
        map[key] = scalar(rest, line.no);
        continue;
      }
      const next = this.lines[this.i];
      if (next && next.indent > indent) map[key] = this.block(next.indent);
      else if (next && next.indent === indent && (next.text === '-' || next.text.startsWith('- '))) map[key] = this.sequence(indent);
      else map[key] = null;
    }
    const line = this.lines[this.i];
    if (line && line.indent > indent) throw new YamlError(line.no, 'unexpected indentation (a multi-line scalar?)');
    return map;
  }
}

/** Every document of a multi-document YAML text, in order. */
export function parseYamlDocuments(text: string): YamlValue[] {
  return splitDocuments(text).map((lines) => new Parser(lines).document());
}
