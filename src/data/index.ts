export { walkImages, expandInputs, isImagePath, fileNameText, IMAGE_EXTENSIONS } from './files.ts';
export { discoverDataset, stratifiedSplit, seededRandom, shuffle, DatasetError, type Dataset, type Sample } from './dataset.ts';
export { findCrossClassDuplicates, type CrossClassDuplicate } from './duplicates.ts';
