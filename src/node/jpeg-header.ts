// Reads what a JPEG's markers say before any pixel is decoded: the frame (size, precision,
// components and their sampling) and the two pieces of metadata that make sharp change pixels
// after libjpeg has produced them: the EXIF orientation (sharp's rotate()) and an embedded ICC
// profile (sharp converts through it to sRGB). jpeg-fast.ts decides from this whether a file may
// skip libvips. Every doubt reads as "cannot tell" (undefined), which sends the file to sharp.

/** One frame component's sampling factors, as in the SOF marker. */
export interface Sampling {
  h: number;
  v: number;
}

export interface JpegHeader {
  /** The SOF marker's second byte: 0xC0 baseline, 0xC1 extended sequential, 0xC2 progressive, others (lossless, arithmetic, hierarchical). */
  frame: number;
  precision: number;
  width: number;
  height: number;
  components: Sampling[];
  /**
   * IFD0's orientation tag of the first EXIF segment (the one libvips reads); 1 without EXIF or
   * without the tag; undefined when the EXIF is not laid out plainly enough to be sure.
   */
  orientation: number | undefined;
  /** An APP2 ICC_PROFILE segment is present. */
  icc: boolean;
}

const SOI = 0xd8;
const SOS = 0xda;
const APP1 = 0xe1;
const APP2 = 0xe2;
const EXIF = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"
const ICC = [0x49, 0x43, 0x43, 0x5f, 0x50, 0x52, 0x4f, 0x46, 0x49, 0x4c, 0x45]; // "ICC_PROFILE"
const ORIENTATION_TAG = 0x0112;
const SHORT = 3;

function startsWith(bytes: Uint8Array, at: number, end: number, prefix: readonly number[]): boolean {
  if (end - at < prefix.length) return false;
  return prefix.every((byte, i) => bytes[at + i] === byte);
}

/** SOFn markers: 0xC0-0xCF except DHT (C4), JPG (C8) and DAC (CC). */
function isFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * The orientation in IFD0 of an EXIF segment's payload (from "Exif\0\0"), 1 where IFD0 has no
 * such tag, or undefined where anything is out of the ordinary: a bad byte order or magic, an
 * offset past the end, the tag twice or not a single SHORT.
 */
export function exifOrientation(segment: Uint8Array): number | undefined {
  const tiff = EXIF.length;
  if (segment.length < tiff + 8) return undefined;
  const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const little = order === 0x4949;
  if (view.getUint16(tiff + 2, little) !== 42) return undefined;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd + 2 > segment.length) return undefined;
  const entries = view.getUint16(ifd, little);
  if (ifd + 2 + entries * 12 > segment.length) return undefined;
  let orientation: number | undefined;
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (view.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    if (orientation !== undefined) return undefined;
    if (view.getUint16(entry + 2, little) !== SHORT || view.getUint32(entry + 4, little) !== 1) return undefined;
    orientation = view.getUint16(entry + 8, little);
  }
  return orientation ?? 1;
}

/**
 * The header of a JPEG, read from its markers up to the first scan, or undefined when the bytes
 * do not hold a well-formed one (libjpeg then decides what is wrong, through sharp).
 */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return undefined;
  let frame: Omit<JpegHeader, 'orientation' | 'icc'> | undefined;
  let orientation: number | undefined = 1;
  let exifSeen = false;
  let icc = false;
  let at = 2;
  for (;;) {
    // A marker is 0xFF, any number of 0xFF fill bytes, then its code.
    if (at >= bytes.length || bytes[at] !== 0xff) return undefined;
    while (at < bytes.length && bytes[at] === 0xff) at++;
    if (at + 2 >= bytes.length) return undefined;
    const marker = bytes[at];
    // Markers without a length (SOI, EOI, RSTn, TEM) have no place before the first scan.
    if (marker === SOI || marker === 0xd9 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) return undefined;
    const length = (bytes[at + 1] << 8) | bytes[at + 2];
    const start = at + 3;
    const end = at + 1 + length;
    if (length < 2 || end > bytes.length) return undefined;
    if (marker === SOS) return frame && { ...frame, orientation, icc };
    if (isFrame(marker)) {
      if (frame || length < 8) return undefined;
      const count = bytes[start + 5];
      if (length !== 8 + count * 3) return undefined;
      const components = Array.from({ length: count }, (_, i) => ({ h: bytes[start + 7 + i * 3] >> 4, v: bytes[start + 7 + i * 3] & 15 }));
      frame = {
        frame: marker,
        precision: bytes[start],
        height: (bytes[start + 1] << 8) | bytes[start + 2],
        width: (bytes[start + 3] << 8) | bytes[start + 4],
        components,
      };
    } else if (marker === APP1 && startsWith(bytes, start, end, [0x45, 0x78, 0x69, 0x66])) {
      // libvips takes the first APP1 starting "Exif" and ignores later ones; be sure there is one.
      orientation = exifSeen || !startsWith(bytes, start, end, EXIF) ? undefined : exifOrientation(bytes.subarray(start, end));
      exifSeen = true;
    } else if (marker === APP2 && startsWith(bytes, start, end, ICC)) {
      icc = true;
    }
    at = end;
  }
}
