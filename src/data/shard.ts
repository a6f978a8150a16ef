import { createHash } from 'node:crypto';

// Splitting a listing among machines with no coordinator: each file's shard is a hash of its path
// relative to the folder it was found in, so every machine (or Kubernetes Job pod) that lists
// the same photos agrees, wherever the folder is mounted. Every file falls in exactly one shard.

export interface Shard {
  /** 0-based: 0 .. count - 1. */
  index: number;
  count: number;
}

/**
 * The shard of `key` among `count`: the first 6 bytes of SHA-256 of the key (UTF-8, '/'
 * separators) as a big-endian integer, modulo `count`. Any tool can compute the same split.
 */
export function shardOf(key: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count should be a positive integer, got ${count}`);
  return createHash('sha256').update(key, 'utf8').digest().readUIntBE(0, 6) % count;
}

export function inShard(key: string, shard: Shard | undefined): boolean {
  return shard === undefined || shard.count === 1 || shardOf(key, shard.count) === shard.index;
}

/** Parses "I/N" (0 <= I < N); undefined when the text is not one. */
export function parseShard(text: string): Shard | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return Number.isSafeInteger(count) && count >= 1 && index < count ? { index, count } : undefined;
}
