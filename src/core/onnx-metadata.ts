import { UserError } from './errors.ts';

// Reads ModelProto.metadata_props, the one reader for Node and browsers. onnxruntime exposes input
// and output metadata but not the model's custom metadata map, and onnx-proto would add protobufjs
// plus the whole ONNX schema to a page for one repeated string pair. Walking the wire format is enough:
// every other field, the graph and its weights included, is skipped by its length without being
// decoded, and reaching the end exactly proves the download is complete.

/** The bytes are not a readable ONNX model; the message says what is wrong. */
export class OnnxFormatError extends UserError {
  override name = 'OnnxFormatError';
}

const MODEL_IR_VERSION = 1;
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

class Reader {
  pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Multiplies instead of shifting: lengths of models over 2 GiB do not fit 32-bit shifts. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OnnxFormatError('not a valid ONNX model: the file is truncated (inside a number)');
      const byte = this.bytes[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new OnnxFormatError('not a valid ONNX model: a number is longer than 10 bytes');
  }

  /** Returns [start, end) of a length-delimited field's payload and moves past it. */
  span(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    if (start + length > this.end) throw new OnnxFormatError('not a valid ONNX model: the file is truncated or not ONNX');
    this.pos = start + length;
    return [start, this.pos];
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) this.span();
    else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) {
      this.pos += wire === WIRE_FIXED64 ? 8 : 4;
      if (this.pos > this.end) throw new OnnxFormatError('not a valid ONNX model: the file is truncated or not ONNX');
    } else {
      throw new OnnxFormatError(`not a valid ONNX model: unexpected protobuf wire type ${wire}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array, [start, end]: [number, number]): string {
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch {
    throw new OnnxFormatError('not a valid ONNX model: a metadata string is not UTF-8');
  }
}

function readEntry(bytes: Uint8Array, [start, end]: [number, number]): [string, string] {
  const reader = new Reader(bytes, start, end);
  let key = '';
  let value = '';
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === WIRE_LEN && field === ENTRY_KEY) key = text(bytes, reader.span());
    else if (wire === WIRE_LEN && field === ENTRY_VALUE) value = text(bytes, reader.span());
    else reader.skip(wire);
  }
  return [key, value];
}

/**
 * The key/value metadata of an ONNX model (ModelProto.metadata_props), in Node and browsers alike. Throws
 * OnnxFormatError for empty, truncated or non-ONNX bytes.
 */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  if (bytes.length === 0) throw new OnnxFormatError('file is empty (0 bytes)');
  const reader = new Reader(bytes, 0, bytes.length);
  const metadata: Record<string, string> = {};
  let irVersion = 0;
  let hasGraph = false;
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new OnnxFormatError('not a valid ONNX model: field number 0');
    if (field === MODEL_IR_VERSION && wire === WIRE_VARINT) irVersion = reader.varint();
    else if (field === MODEL_GRAPH && wire === WIRE_LEN) {
      reader.span();
      hasGraph = true;
    } else if (field === MODEL_METADATA_PROPS && wire === WIRE_LEN) {
      const [key, value] = readEntry(bytes, reader.span());
      if (key) metadata[key] = value;
    } else reader.skip(wire);
  }
  // Protobuf is permissive enough that some unrelated files parse; a real model has both.
  if (!hasGraph || irVersion <= 0) throw new OnnxFormatError('not an ONNX model: it has no graph or no IR version');
  return metadata;
}
