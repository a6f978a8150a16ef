import type { FastifyMultipartBaseOptions, MultipartFile } from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_TOP_K, type Prediction, type PredictionFailure } from '../../core/index.ts';
import type { ServeContext } from '../context.ts';
import { HttpError, queueFull, toHttpError } from '../http-error.ts';
import { bodyTooLarge, unsupportedType } from '../media.ts';

// POST /v1/classify/batch: multipart/form-data with many image files, answered with one result or
// error per file, in upload order. Files are decoded as they stream in, and each one joins the
// shared batcher on its own, so a batch upload and single uploads fill the same ONNX runs.

/** Files of one upload being decoded at once; reading the next waits, which holds back the client. */
const DECODES_PER_UPLOAD = 4;
/** Files one upload may hold; its results travel in one response. */
export const MAX_FILES_PER_UPLOAD = 256;

type FileResult = Prediction | PredictionFailure;

async function readFile(part: MultipartFile): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of part.file) chunks.push(chunk as Buffer);
  // busboy stops storing at the size limit and marks the stream truncated.
  return part.file.truncated ? undefined : Buffer.concat(chunks);
}

const failure = (file: string, error: HttpError): PredictionFailure => ({ file, error: { code: error.code, message: error.message } });

export function batchRoute(app: FastifyInstance, context: ServeContext): void {
  const { maxBodyBytes } = context.options;
  // An oversized file becomes that file's error, not the whole upload's. More than
  // MAX_FILES_PER_UPLOAD files refuse the upload whole (413), bounding the work one request can ask for.
  const limits: FastifyMultipartBaseOptions = {
    limits: { fileSize: maxBodyBytes, files: MAX_FILES_PER_UPLOAD, fields: 64, parts: MAX_FILES_PER_UPLOAD + 64 },
    throwFileSizeLimit: false,
  };
  app.post<{ Querystring: { top_k?: string } }>('/v1/classify/batch', async (request, reply) => {
    const model = context.serving();
    if (!request.isMultipart()) throw unsupportedType(request.headers['content-type']);
    const k = model.pipeline.topK(request.query.top_k, DEFAULT_TOP_K);
    const jobs: Promise<FileResult>[] = [];
    const decoding = new Set<Promise<unknown>>();
    try {
      for await (const part of request.parts(limits)) {
        if (part.type !== 'file') continue;
        const name = part.filename || part.fieldname;
        const bytes = await readFile(part);
        if (!bytes) {
          jobs.push(Promise.resolve(failure(name, bodyTooLarge(maxBodyBytes, 'the file'))));
          continue;
        }
        if (decoding.size >= DECODES_PER_UPLOAD) await Promise.race(decoding);
        const job = model.pipeline.classify(bytes, name, k).catch((error: unknown) => failure(name, toHttpError(error)));
        const settled: Promise<unknown> = job.then(() => decoding.delete(settled));
        decoding.add(settled);
        jobs.push(job);
      }
    } catch (error) {
      // Limits arrive as coded errors; anything else thrown while reading parts is busboy
      // rejecting the body itself (no boundary, cut short), which is the client's doing.
      const mapped = toHttpError(error);
      throw mapped.code === 'internal' ? new HttpError(400, 'malformed-multipart', `malformed multipart body: ${(error as Error).message}`) : mapped;
    } finally {
      // A malformed or over-limit upload still waits for the files already started, so their
      // places in the queue are given back before the error is answered.
      await Promise.allSettled(jobs);
    }
    if (jobs.length === 0) throw new HttpError(400, 'no-files', 'the multipart body holds no files');
    const results = await Promise.all(jobs);
    if (results.every((r) => 'error' in r && r.error.code === 'queue-full')) throw queueFull();
    for (const r of results) if ('error' in r) context.metrics.errors.inc({ kind: r.error.code });
    return { results, model: model.name, ms: Math.round(reply.elapsedTime * 100) / 100 };
  });
}
