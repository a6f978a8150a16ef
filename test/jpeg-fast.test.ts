import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { defaultPreprocess } from '../src/core/index.ts';
import { seededRandom } from '../src/data/index.ts';
import { decodeImage, ImageError, imageToInput, prepareFile, type DecodeOptions } from '../src/node/index.ts';
import { FAST_MAX_PIXELS, jpegFastPathRuns, setJpegFastPath } from '../src/node/jpeg-fast.ts';
import { exifOrientation, readJpegHeader } from '../src/node/jpeg-header.ts';
import { mutatedJpegs, SOURCE_PHOTO } from '../fixtures/bad-inputs.ts';
import { firstFiles, SHARED_MISSING, SHOES } from '../fixtures/shared-data.ts';

// The short way to a catalogue JPEG's pixels (src/node/jpeg-fast.ts) must give sharp's bytes to
// the last bit, and every file it does not take, or fails on, must come out exactly as sharp
// alone makes it: the same pixels or the same failure code and reason.

const WHITE: [number, number, number] = [255, 255, 255];
const spec = defaultPreprocess();

type Outcome = { width: number; height: number; data: Buffer } | { error: string };

async function decodeOutcome(bytes: Buffer, name: string, options: DecodeOptions = {}): Promise<Outcome> {
  try {
    const { data, width, height } = await decodeImage(bytes, name, WHITE, options);
    return { width, height, data: Buffer.from(data) };
  } catch (error) {
    if (!(error instanceof ImageError)) throw error;
    return { error: `${error.code}: ${error.reason}` };
  }
}

/** The outcome with the short way on, whether it ran, and the outcome with sharp alone. */
async function bothWays(bytes: Buffer, name: string, options: DecodeOptions = {}): Promise<{ fast: Outcome; tookFast: boolean; sharp: Outcome }> {
  const runs = jpegFastPathRuns();
  const fast = await decodeOutcome(bytes, name, options);
  const tookFast = jpegFastPathRuns() > runs;
  setJpegFastPath(false);
  try {
    return { fast, tookFast, sharp: await decodeOutcome(bytes, name, options) };
  } finally {
    setJpegFastPath(true);
  }
}

async function assertSameAsSharp(bytes: Buffer, name: string, expectFast: boolean, options: DecodeOptions = {}): Promise<Outcome> {
  const { fast, tookFast, sharp: alone } = await bothWays(bytes, name, options);
  assert.equal(tookFast, expectFast, `${name}: ${expectFast ? 'should' : 'should not'} take the short way`);
  assert.deepEqual(fast, alone, `${name}: same outcome as sharp alone`);
  return fast;
}

/**
 * An "Exif\0\0" segment payload whose IFD0 (right after the TIFF header) holds `entries`
 * ([tag, type, count, value]); `pointer` overrides the offset of IFD0 the header gives.
 */
function exif(entries: [number, number, number, number][], little = true, pointer = 8): Buffer {
  const bytes = Buffer.alloc(6 + 8 + 2 + entries.length * 12 + 4);
  bytes.set([0x45, 0x78, 0x69, 0x66, 0, 0]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint16(6, little ? 0x4949 : 0x4d4d);
  view.setUint16(8, 42, little);
  view.setUint32(10, pointer, little);
  view.setUint16(14, entries.length, little);
  entries.forEach(([tag, type, count, value], i) => {
    view.setUint16(16 + i * 12, tag, little);
    view.setUint16(18 + i * 12, type, little);
    view.setUint32(20 + i * 12, count, little);
    view.setUint16(24 + i * 12, value, little);
  });
  return bytes;
}

/** `jpeg` with an APP1 segment holding `payload` right after its start-of-image marker. */
function withApp1(jpeg: Buffer, payload: Buffer): Buffer {
  const marker = Buffer.from([0xff, 0xe1, 0, 0]);
  marker.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), marker, payload, jpeg.subarray(2)]);
}

describe('JPEG header', () => {

  test('EXIF orientation is read from IFD0 in either byte order, and anything unusual reads as unknown', () => {
    const make = 0x010f;
    assert.equal(exifOrientation(exif([[make, 2, 4, 0], [0x0112, 3, 1, 6]])), 6);
    assert.equal(exifOrientation(exif([[0x0112, 3, 1, 8]], false)), 8);
    assert.equal(exifOrientation(exif([[make, 2, 4, 0]])), 1, 'no tag: upright');
    assert.equal(exifOrientation(exif([[0x0112, 3, 1, 1], [0x0112, 3, 1, 6]])), undefined, 'the tag twice');
    assert.equal(exifOrientation(exif([[0x0112, 4, 1, 6]])), undefined, 'a LONG, not a SHORT');
    assert.equal(exifOrientation(exif([[0x0112, 3, 2, 6]])), undefined, 'two values');
    assert.equal(exifOrientation(exif([[0x0112, 3, 1, 6]], true, 4000)), undefined, 'IFD0 past the end');
    assert.equal(exifOrientation(exif([[0x0112, 3, 1, 6]]).subarray(0, 27)), undefined, 'entries past the end');
    const badOrder = exif([[0x0112, 3, 1, 1]]);
    badOrder[6] = 0x58;
    assert.equal(exifOrientation(badOrder), undefined, 'byte order neither II nor MM');
  });

  test('a catalogue photo\'s header, and undefined for what is not a whole JPEG header', async () => {
    const photo = await readFile(SOURCE_PHOTO);
    assert.deepEqual(readJpegHeader(photo), {
      frame: 0xc0,
      precision: 8,
      width: 136,
      height: 102,
      components: [{ h: 1, v: 1 }, { h: 1, v: 1 }, { h: 1, v: 1 }],
      orientation: 1,
      icc: false,
    });
    const sos = photo.indexOf(Buffer.from([0xff, 0xda]));
    assert.equal(readJpegHeader(photo.subarray(0, sos)), undefined, 'cut before the first scan');
    assert.equal(readJpegHeader(Buffer.from('not a jpeg at all')), undefined);
    const noFrame = Buffer.concat([photo.subarray(0, 2), photo.subarray(sos)]);
    assert.equal(readJpegHeader(noFrame), undefined, 'a scan without a frame');
  });
});

describe('the JPEG short way', { skip: SHARED_MISSING }, () => {
  let photos: string[];
  let work: string;

  before(async () => {
    // 20 per class of the held-out split.
    photos = (await firstFiles(path.join(SHOES, 'test'), 20)).map((f) => f.file);
    work = await mkdtemp(path.join(os.tmpdir(), 'fw-jpeg-fast-'));
  });

  after(async () => {
    setJpegFastPath(true);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('60 real catalogue photos: the short way runs for each and gives sharp\'s bytes', async () => {
    assert.equal(photos.length, 60);
    const runs = jpegFastPathRuns();
    await decodeImage(await readFile(photos[0]), photos[0], WHITE);
    assert.equal(jpegFastPathRuns(), runs + 1, 'the short way is off: is @cwasm/jpeg-turbo installed (npm install)?');
    for (const file of photos) {
      const decoded = await assertSameAsSharp(await readFile(file), file, true);
      assert.ok('data' in decoded && decoded.width >= 135 && decoded.height === 102);
    }
  });

  test('model inputs from prepareFile and imageToInput are the same bits either way', async () => {
    const size = spec.width * spec.height * 3;
    for (const file of photos.slice(0, 12)) {
      const inputs: Float32Array[] = [];
      for (const fast of [true, false]) {
        setJpegFastPath(fast);
        const runs = jpegFastPathRuns();
        const slot = { out: new Float32Array(size * 2), offset: size };
        const prepared = await prepareFile(file, spec, undefined, slot, 'sync');
        assert.ok('input' in prepared, file);
        const direct = await imageToInput(await readFile(file), file, spec);
        assert.equal(jpegFastPathRuns() - runs, fast ? 2 : 0, `${file}: which path ran`);
        assert.deepEqual(prepared.input, direct);
        inputs.push(direct);
      }
      setJpegFastPath(true);
      assert.deepEqual(inputs[0], inputs[1], file);
    }
  });

  test('decodeImage hands out its own pixels: a later decode does not change them', async () => {
    const [a, b] = await Promise.all(photos.slice(0, 2).map((file) => readFile(file)));
    const first = await decodeImage(a, 'a.jpg', WHITE);
    const copy = Buffer.from(first.data);
    await decodeImage(b, 'b.jpg', WHITE);
    assert.ok(!copy.equals(Buffer.from((await decodeImage(b, 'b.jpg', WHITE)).data)), 'two different photos');
    assert.ok(Buffer.from(first.data).equals(copy));
  });

  test('every frame the short way takes gives sharp\'s bytes: baseline and progressive, 4:4:4 and 4:2:0, edge blocks', async () => {
    const source = await readFile(SOURCE_PHOTO);
    // Odd sizes leave partial blocks and MCUs at the right and bottom edges; 512x512 is the largest taken.
    for (const [width, height] of [[136, 102], [135, 101], [77, 33], [257, 190], [512, 512]]) {
      for (const chromaSubsampling of ['4:4:4', '4:2:0']) {
        for (const progressive of [false, true]) {
          for (const quality of [60, 95]) {
            const jpeg = await sharp(source).resize(width, height, { fit: 'fill' }).jpeg({ quality, chromaSubsampling, progressive }).toBuffer();
            await assertSameAsSharp(jpeg, `${width}x${height} ${chromaSubsampling} ${progressive ? 'progressive' : 'baseline'} q${quality}`, true);
          }
        }
      }
    }
  });

  test('valid JPEGs at their worst, quality 1 of noise and checkerboards, still give sharp\'s bytes', async () => {
    // Coarse quantisation of hard edges drives the IDCT furthest past 0..255 that an encoder can.
    const width = 160;
    const height = 120;
    const random = seededRandom(3);
    const patterns: Record<string, (x: number, y: number) => number> = {
      noise: () => Math.floor(random() * 256),
      checkerboard: (x, y) => ((x + y) & 1 ? 255 : 0),
      stripes: (x) => (x & 1 ? 255 : 0),
    };
    for (const [name, pattern] of Object.entries(patterns)) {
      const raw = Buffer.alloc(width * height * 3);
      for (let i = 0; i < raw.length; i++) raw[i] = pattern(Math.floor(i / 3) % width, Math.floor(i / 3 / width));
      for (const chromaSubsampling of ['4:4:4', '4:2:0']) {
        const jpeg = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 1, chromaSubsampling }).toBuffer();
        await assertSameAsSharp(jpeg, `${name} q1 ${chromaSubsampling}`, true);
      }
    }
  });

  test('left to sharp: rotated, ICC, CMYK, grey, other formats, big photos; EXIF orientation 1 is taken', async () => {
    const source = await readFile(SOURCE_PHOTO);
    const rgb = () => sharp(source);
    const plain = await rgb().jpeg().toBuffer();
    // sharp's withMetadata() would embed an sRGB profile too, so the EXIF segments are made here.
    const cases: [string, Buffer, boolean][] = [
      ['EXIF orientation 1', withApp1(plain, exif([[0x0112, 3, 1, 1]])), true],
      ['EXIF without orientation', withApp1(plain, exif([[0x010f, 2, 4, 0]], false)), true],
      ['EXIF orientation 3', withApp1(plain, exif([[0x0112, 3, 1, 3]])), false],
      ['EXIF orientation 6, big-endian', withApp1(plain, exif([[0x0112, 3, 1, 6]], false)), false],
      ['EXIF orientation 1, then another EXIF segment saying 6', withApp1(withApp1(plain, exif([[0x0112, 3, 1, 6]])), exif([[0x0112, 3, 1, 1]])), false],
      ['sRGB ICC profile (withMetadata)', await rgb().withMetadata().jpeg().toBuffer(), false],
      ['Display P3 ICC profile', await rgb().withIccProfile('p3').jpeg().toBuffer(), false],
      ['CMYK', await rgb().toColourspace('cmyk').jpeg().toBuffer(), false],
      ['greyscale (one component)', await rgb().toColourspace('b-w').jpeg().toBuffer(), false],
      ['PNG', await rgb().png().toBuffer(), false],
      ['WebP', await rgb().webp({ lossless: true }).toBuffer(), false],
      [`more than ${FAST_MAX_PIXELS} pixels`, await rgb().resize(513, 512, { fit: 'fill' }).jpeg().toBuffer(), false],
    ];
    for (const [name, bytes, takes] of cases) await assertSameAsSharp(bytes, name, takes);
  });

  test('the pixel limit comes first: over it, or a header claiming 40000x40000, fails too-large without decoding', async () => {
    const photo = await readFile(SOURCE_PHOTO);
    const limited = await assertSameAsSharp(photo, 'limit 100', false, { maxPixels: 100 });
    assert.deepEqual(limited, { error: 'too-large: image is larger than the 100-pixel limit' });
    // Limits sharp reads otherwise (0: none) or refuses as a parameter stay sharp's to judge.
    for (const maxPixels of [0, 20_000.5, Infinity]) await assertSameAsSharp(photo, `limit ${maxPixels}`, false, { maxPixels });
    // The frame header (SOF0) holds height then width after its length and precision.
    const bomb = Buffer.from(photo);
    const sof = bomb.indexOf(Buffer.from([0xff, 0xc0]));
    bomb.writeUInt16BE(40000, sof + 5);
    bomb.writeUInt16BE(40000, sof + 7);
    const outcome = await assertSameAsSharp(bomb, 'bomb', false);
    assert.ok('error' in outcome && outcome.error.startsWith('too-large: '), JSON.stringify(outcome));
  });

  test('300 corrupted photos: sharp\'s failure code and reason for each that fails, sharp\'s pixels for all but a few', { timeout: 120_000 }, async () => {
    const mutants = await mutatedJpegs(photos.slice(0, 4), 300, work);
    let tookFast = 0;
    let failed = 0;
    let otherPixels = 0;
    for (const { file, how } of mutants) {
      const { fast, tookFast: took, sharp: alone } = await bothWays(await readFile(file), file);
      if (took) tookFast++;
      if ('error' in alone) failed++;
      if (took && 'data' in fast && 'data' in alone && !fast.data.equals(alone.data)) {
        // The one way the two may part: corrupt data that libjpeg decodes without a warning but
        // whose coefficients overflow, where sharp's SIMD libjpeg saturates and the C code in
        // wasm wraps (native libjpeg-turbo without SIMD gives the wasm bytes). Valid JPEGs never
        // get there (see above); in a 3000-photo run of this fuzz, 8 did, and no failure differed.
        assert.deepEqual([fast.width, fast.height], [alone.width, alone.height], how);
        otherPixels++;
      } else assert.deepEqual(fast, alone, how);
    }
    // Both kinds must be there, or this proves little: decoded on the short way, and failures
    // (truncated, corrupt) that it handed to sharp.
    assert.ok(tookFast >= 10 && failed >= 30, `${tookFast} took the short way, ${failed} failed`);
    assert.ok(otherPixels <= 3, `${otherPixels} of 300 decoded to other pixels than sharp's (1 when measured)`);
    // A libjpeg error restarts the decoder: the next good photo still takes the short way.
    await assertSameAsSharp(await readFile(photos[0]), photos[0], true);
  });
});
