import { HttpError } from './http-error.ts';

/**
 * Content types POST /v1/classify takes as a raw image body. application/octet-stream is what
 * many clients send for "a file" (fetch of a Blob without a type, HTTP libraries' defaults); the
 * format is read from the bytes in every case, so a mislabelled image still decodes and a body
 * that is no image at all gets 400 'unsupported', whatever it was labelled.
 */
export const IMAGE_TYPES = ['image/jpeg', 'image/jpg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'application/octet-stream'];

/** A request that works, for error messages and the server's "ready" line. */
export function curlExample(url: string): string {
  return `curl -H 'Content-Type: image/jpeg' --data-binary @photo.jpg ${url}/v1/classify`;
}

export function unsupportedType(got: string | undefined): HttpError {
  return new HttpError(
    415,
    'unsupported-media-type',
    `Content-Type ${got ? `"${got}"` : 'missing'} is not accepted: send one image as ${IMAGE_TYPES.join(', ')} ` +
      `(e.g. curl -H 'Content-Type: image/jpeg' --data-binary @photo.jpg), or files as multipart/form-data to /v1/classify/batch`,
  );
}

/** 413 for an upload over --max-body-bytes: says the limit, and how the operator raises it. */
export function bodyTooLarge(limit: number, what = 'the upload'): HttpError {
  const mib = limit >= 1024 * 1024 ? ` (${+(limit / (1024 * 1024)).toFixed(1)} MiB)` : '';
  return new HttpError(413, 'body-too-large', `${what} is larger than the server's limit of ${limit} bytes${mib}; the server's --max-body-bytes option raises it`);
}
