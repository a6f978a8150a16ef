// One image POSTed over a keep-alive node:http agent, for the open-loop phases of the soak bench.
// The load generator shares the server's cores, so its own CPU per request is taken from the
// server under test: Node's fetch spent 3.3 ms of CPU per request here, node:http 1.6 ms
// (measured on the 2-core machine of BENCHMARKS.md, 63 requests/s for 30 s).
import http from 'node:http';

export interface Answer {
  status: number;
  /** From sending the request to the last byte of the answer. */
  ms: number;
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

export function keepAliveAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: Infinity });
}

/** POSTs `body` as image/jpeg; rejects with TimeoutError when no answer has ended after timeoutMs. */
export function postImage(agent: http.Agent, url: URL, body: Buffer, timeoutMs: number): Promise<Answer> {
  const sent = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'image/jpeg', 'content-length': body.length } },
      (response) => {
        response.resume();
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, ms: performance.now() - sent });
        });
        response.on('error', reject);
      },
    );
    const timer = setTimeout(() => request.destroy(new TimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}
