// `footwear web build`: a static site that classifies photos in the browser (src/browser) with a
// model built here. The page's own source is in page/, bundled by Vite when a site is built.
export { buildWebSite, WebBuildError, SITE_MANIFEST, type BuildWebSiteOptions, type BuiltSite, type SiteSizes } from './build.ts';
export { CONTENT_TYPES, contentType } from './content-types.ts';
export { acceptedEncodings, compressible, ENCODINGS, isPrecompressed, precompress, type Encoding } from './compress.ts';
