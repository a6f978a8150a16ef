import type { LayerContext } from './registry.ts';

// Typed reads of a layer's getConfig() values, which TF.js types only as a loose JSON union. A
// malformed value becomes an UnsupportedLayerError naming the layer rather than a NaN in the graph.

export function readNumber(ctx: LayerContext, key: string, fallback?: number): number {
  const value = ctx.config[key];
  if (value == null && fallback !== undefined) return fallback;
  if (typeof value !== 'number') return ctx.unsupported(`config "${key}" should be a number, got ${JSON.stringify(value)}`);
  return value;
}

export function readOptionalNumber(ctx: LayerContext, key: string): number | undefined {
  return ctx.config[key] == null ? undefined : readNumber(ctx, key);
}

export function readString(ctx: LayerContext, key: string, fallback?: string): string {
  const value = ctx.config[key];
  if (value == null && fallback !== undefined) return fallback;
  if (typeof value !== 'string') return ctx.unsupported(`config "${key}" should be a string, got ${JSON.stringify(value)}`);
  return value;
}

export function readBoolean(ctx: LayerContext, key: string, fallback: boolean): boolean {
  const value = ctx.config[key];
  if (value == null) return fallback;
  if (typeof value !== 'boolean') return ctx.unsupported(`config "${key}" should be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/** A list of numbers; `null` entries (Keras's "unknown"/-1) come back as null. */
export function readNumberList(ctx: LayerContext, key: string): (number | null)[] {
  const value = ctx.config[key];
  if (!Array.isArray(value) || !value.every((v) => v === null || typeof v === 'number')) {
    return ctx.unsupported(`config "${key}" should be a list of numbers, got ${JSON.stringify(value)}`);
  }
  return value as (number | null)[];
}

/** A 2D size given either as one number or as [height, width]. */
export function readPair(ctx: LayerContext, key: string, fallback?: [number, number]): [number, number] {
  const value = ctx.config[key];
  if (value == null && fallback) return fallback;
  if (typeof value === 'number') return [value, value];
  const list = readNumberList(ctx, key);
  if (list.length !== 2 || list.some((v) => v === null)) return ctx.unsupported(`config "${key}" should be [height, width], got ${JSON.stringify(value)}`);
  return [list[0] as number, list[1] as number];
}

/** Layers that take `dataFormat` only map channels-last, the layout TF.js Keras models use. */
export function requireChannelsLast(ctx: LayerContext): void {
  const format = ctx.config.dataFormat;
  if (format != null && format !== 'channelsLast') ctx.unsupported(`dataFormat "${String(format)}" (only channelsLast is supported)`);
}
