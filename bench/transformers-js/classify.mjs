// What a transformers.js user writes to classify a folder of photos: the image-classification
// pipeline on a local model folder, fed batches of file paths. The bench copies this file into the
// folder where it installed @huggingface/transformers, so the bare import resolves there and
// nothing of transformers.js enters footwear's own dependencies.
// Usage: node classify.mjs MODEL_FOLDER PHOTO_FOLDER OUT.jsonl [BATCH_SIZE]
import { createWriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';

const [model, photos, out, batch = '8'] = process.argv.slice(2);
const batchSize = Number(batch);
const IMAGE = /\.(jpe?g|png|webp|gif|avif|tiff?)$/i;

// Nothing may be fetched: the model comes from disk only, and a missing file is an error.
env.allowRemoteModels = false;
env.localModelPath = path.dirname(path.resolve(model));

const classify = await pipeline('image-classification', path.basename(model), { local_files_only: true, device: 'cpu', dtype: 'fp32' });
const files = (await readdir(photos, { recursive: true }))
  .filter((f) => IMAGE.test(f))
  .sort()
  .map((f) => path.join(photos, f));
const rows = createWriteStream(out);
for (let i = 0; i < files.length; i += batchSize) {
  const chunk = files.slice(i, i + batchSize);
  const results = await classify(chunk, { top_k: 1 });
  chunk.forEach((file, j) => rows.write(`${JSON.stringify({ file, label: results[j][0].label, score: results[j][0].score })}\n`));
}
await new Promise((resolve, reject) => rows.end((error) => (error ? reject(error) : resolve())));
