export { walkImages, walkEntries, isImagePath, fileNameText, IMAGE_EXTENSIONS, type WalkEntry } from './files.ts';
export { listInputs, expandInputs, describeInputs, shardKey, type ListedEntry, type InputRoot, type ListOptions } from './listing.ts';
export { shardOf, inShard, parseShard, type Shard } from './shard.ts';
export { SkipTally, type SkippedCounts } from './skipped.ts';
export { discoverDataset, stratifiedSplit, seededRandom, shuffle, DatasetError, type Dataset, type Sample } from './dataset.ts';
export { findCrossClassDuplicates, type CrossClassDuplicate } from './duplicates.ts';
