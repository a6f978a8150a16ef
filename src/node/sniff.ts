// Recognises the common photo formats from their first bytes. Asking libvips for the format
// (sharp's metadata()) is a second pass over the file that costs a fifth of a small JPEG's whole
// decode; these signatures are the ones libvips itself checks, so a file recognised here is one
// libvips would load with the same loader. Anything else still goes through metadata().

/** Each format's signature as byte runs at fixed offsets; WebP is RIFF....WEBP (between: a chunk size). */
const SIGNATURES: readonly { format: string; runs: readonly [offset: number, bytes: readonly number[]][] }[] = [
  { format: 'jpeg', runs: [[0, [0xff, 0xd8, 0xff]]] },
  { format: 'png', runs: [[0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]]] },
  { format: 'gif', runs: [[0, [0x47, 0x49, 0x46, 0x38]]] },
  { format: 'webp', runs: [[0, [0x52, 0x49, 0x46, 0x46]], [8, [0x57, 0x45, 0x42, 0x50]]] },
];

function startsWith(input: Uint8Array, offset: number, bytes: readonly number[]): boolean {
  if (input.length < offset + bytes.length) return false;
  return bytes.every((byte, i) => input[offset + i] === byte);
}

/** 'jpeg' | 'png' | 'gif' | 'webp' when the bytes say so beyond doubt, otherwise undefined. */
export function sniffRasterFormat(input: Uint8Array): string | undefined {
  return SIGNATURES.find(({ runs }) => runs.every(([offset, bytes]) => startsWith(input, offset, bytes)))?.format;
}
