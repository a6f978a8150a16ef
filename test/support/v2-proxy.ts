import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on a loopback port of its own, standing where a Kubernetes Service stands in front
 * of a model server: `upstream` can change (a server going away, and a new one coming back on
 * another port while the address clients know stays the same), and `rewrite` can edit JSON
 * answers (to play a Triton, which publishes no labels in its metadata). While the upstream
 * refuses connections, the proxy drops its client's connection, as a Service without endpoints does.
 */
export class V2Proxy {
  rewrite?: (path: string, body: Record<string, unknown>) => Record<string, unknown>;
  /** Requests forwarded, by path. */
  readonly seen: string[] = [];

  private constructor(
    public upstream: string,
    private readonly server: http.Server,
  ) {}

  static async start(upstream: string): Promise<V2Proxy> {
    const server = http.createServer();
    const proxy = new V2Proxy(upstream, server);
    server.on('request', (request, response) => proxy.forward(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The runtime URL of `model` behind this proxy. */
  runtimeUrl(model: string): string {
    return `v2://127.0.0.1:${this.port}/${model}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private forward(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.seen.push(request.url ?? '');
      const target = new URL(request.url ?? '/', this.upstream);
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([key]) => key !== 'host'));
      const outgoing = http.request(target, { method: request.method, headers }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (part: Buffer) => parts.push(part));
        answer.on('end', () => {
          let body = Buffer.concat(parts);
          const rewritten = { ...answer.headers };
          if (this.rewrite && /json/.test(answer.headers['content-type'] ?? '')) {
            body = Buffer.from(JSON.stringify(this.rewrite(request.url ?? '', JSON.parse(body.toString()) as Record<string, unknown>)));
            rewritten['content-length'] = String(body.length);
          }
          response.writeHead(answer.statusCode ?? 502, rewritten);
          response.end(body);
        });
      });
      outgoing.on('error', () => request.socket.destroy());
      outgoing.end(Buffer.concat(chunks));
    });
  }
}
