import onnxProto from 'onnx-proto';

// onnx-proto is CommonJS that assigns module.exports wholesale, so Node's ESM loader sees only a
// default export; `import { onnx } from 'onnx-proto'` fails at run time.
const { onnx } = onnxProto;

/** The bytes are not a readable ONNX model; `message` says what is wrong without a stack. */
export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
}

/**
 * Reads the key/value metadata of an ONNX model (ModelProto.metadata_props). Decoding the whole
 * protobuf also proves the file is complete: a truncated download fails here with a clear reason
 * instead of deep inside ONNX Runtime. Weights stored as raw_data are not copied, so this costs
 * milliseconds even for large models.
 */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  if (bytes.length === 0) throw new OnnxFormatError('file is empty (0 bytes)');
  let model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxFormatError(`not a valid ONNX model: the file is truncated or not ONNX (protobuf: ${(error as Error).message})`);
  }
  // Protobuf is permissive enough that some unrelated files decode; a real model has both.
  if (!model.graph || Number(model.irVersion) <= 0) {
    throw new OnnxFormatError('not an ONNX model: it has no graph or no IR version');
  }
  const metadata: Record<string, string> = {};
  for (const entry of model.metadataProps) {
    if (entry.key) metadata[entry.key] = entry.value ?? '';
  }
  return metadata;
}
