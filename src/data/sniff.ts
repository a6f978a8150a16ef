// Recognises the common photo formats from their first bytes. Asking libvips for the format
// (sharp's metadata()) is a second pass over the file that costs a fifth of a small JPEG's whole
// decode; these signatures are the ones libvips itself checks, so a file recognised here is one
// libvips would load with the same loader. Anything else still goes through metadata().

const SIGNATURES: readonly { format: string; offset: number; bytes: readonly number[] }[] = [
  { format: 'jpeg', offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { format: 'png', offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { format: 'gif', offset: 0, bytes: [0x47, 0x49, 0x46, 0x38] },
  // RIFF....WEBP: the four bytes between are the chunk size.
  { format: 'webp', offset: 8, bytes: [0x57, 0x45, 0x42, 0x50] },
];

const RIFF = [0x52, 0x49, 0x46, 0x46];

function startsWith(input: Uint8Array, offset: number, bytes: readonly number[]): boolean {
  if (input.length < offset + bytes.length) return false;
  return bytes.every((byte, i) => input[offset + i] === byte);
}

/** 'jpeg' | 'png' | 'gif' | 'webp' when the bytes say so beyond doubt, otherwise undefined. */
export function sniffRasterFormat(input: Uint8Array): string | undefined {
  for (const { format, offset, bytes } of SIGNATURES) {
    if (format === 'webp' && !startsWith(input, 0, RIFF)) continue;
    if (startsWith(input, offset, bytes)) return format;
  }
  return undefined;
}
