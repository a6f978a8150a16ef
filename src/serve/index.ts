// `footwear serve`: an HTTP inference server with dynamic batching over worker threads.
export { startServer, type RunningServer } from './server.ts';
export { SERVE_DEFAULTS, type ServeOptions } from './options.ts';
export { IMAGE_TYPES } from './media.ts';
export { listenError } from './listen-error.ts';
export { curlExample } from './media.ts';
export type { AccessLogEntry, AccessLog } from './access-log.ts';
export { openAccessLog } from './access-log.ts';
export { DEFAULT_OPEN_PATHS } from './auth.ts';
