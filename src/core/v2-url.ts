import { UserError } from './errors.ts';

// Where a model runs: 'local' (an ONNX runtime in this process, the default) or a KServe v2 /
// Triton server named v2://HOST[:PORT]/MODEL, which receives preprocessed tensors over HTTP.

export const LOCAL_RUNTIME = 'local';
/** Triton's and KServe's HTTP port, when the URL names none. */
export const DEFAULT_V2_PORT = 8000;

export interface V2Target {
  /** Host name or address, without IPv6 brackets (what a socket connects to). */
  host: string;
  port: number;
  /** The model's name on the server. */
  model: string;
  /** v2://host:port/model, for messages. */
  url: string;
}

export type RuntimeChoice = { kind: 'local' } | { kind: 'v2'; target: V2Target };

export const RUNTIME_HELP =
  'where the model runs: local (ONNX Runtime here) or v2://HOST[:PORT]/MODEL, a KServe v2 / Triton server ' +
  '(preprocessed tensors are sent there; --model still gives labels and preprocessing, and the server\'s model must match it)';

export class RuntimeChoiceError extends UserError {
  override name = 'RuntimeChoiceError';
}

export function parseRuntimeChoice(value: string): RuntimeChoice {
  const text = value.trim();
  if (text === '' || text.toLowerCase() === LOCAL_RUNTIME) return { kind: 'local' };
  return { kind: 'v2', target: parseV2Url(text) };
}

export function parseV2Url(value: string): V2Target {
  const fail = (why: string): never => {
    throw new RuntimeChoiceError(`runtime "${value}": ${why}; expected "${LOCAL_RUNTIME}" or v2://HOST[:PORT]/MODEL, e.g. v2://triton:8000/shoes`);
  };
  if (!/^v2:\/\//i.test(value)) fail('not a v2:// URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('not a valid URL');
  }
  if (!url.hostname) fail('no host');
  if (url.username || url.password || url.search || url.hash) fail('user names, queries and fragments are not taken');
  const segments = url.pathname.split('/').filter(Boolean);
  if (segments.length !== 1) fail(segments.length === 0 ? 'no model name after the host' : 'the path should be just the model name');
  let model = '';
  try {
    model = decodeURIComponent(segments[0]);
  } catch {
    fail('the model name is not valid percent-encoding');
  }
  const port = url.port ? Number(url.port) : DEFAULT_V2_PORT;
  if (!(port >= 1)) fail('the port should be 1 to 65535');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port, model, url: `v2://${url.hostname}:${port}/${segments[0]}` };
}
