import { UserError } from '../core/index.ts';

/**
 * Thrown when a model contains a layer (or a layer configuration) the exporter cannot express in
 * ONNX. Raised while planning or mapping, i.e. before any bytes are produced.
 */
export class UnsupportedLayerError extends UserError {
  override name = 'UnsupportedLayerError';

  constructor(
    readonly layerName: string,
    readonly className: string,
    supported: readonly string[],
    readonly reason?: string,
  ) {
    super(
      reason
        ? `cannot export layer "${layerName}" (${className}) to ONNX: ${reason}`
        : `cannot export layer "${layerName}" (${className}) to ONNX: no mapper for ${className}. ` +
            `Supported layer classes: ${supported.join(', ')}`,
    );
  }
}
