import { HttpError } from './http-error.ts';

/** Content types POST /v1/classify takes as a raw image body. */
export const IMAGE_TYPES = ['image/jpeg', 'image/jpg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif'];

export function unsupportedType(got: string | undefined): HttpError {
  return new HttpError(
    415,
    'unsupported-media-type',
    `Content-Type ${got ? `"${got}"` : 'missing'} is not accepted: send one image as ${IMAGE_TYPES.join(', ')}, or files as multipart/form-data to /v1/classify/batch`,
  );
}
