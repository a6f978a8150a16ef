import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Prometheus metrics, on a registry of this server's own: several servers in one process (tests)
// must not share counters, and prom-client's global registry refuses a second metric of a name.

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  errors: Counter<'kind'>;
  latency: Histogram<'route'>;
  batchSize: Histogram;
  inference: Histogram;
  queueWait: Histogram;
}

export interface MetricSources {
  queueDepth: () => number;
  batchesWaiting: () => number;
  busyWorkers: () => number;
  batchBufferBytes: () => number;
}

export function createMetrics(sources: MetricSources, maxBatch: number): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'footwear_' });
  const registers = [registry];
  const sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256].filter((b) => b < maxBatch);
  new Gauge({
    name: 'footwear_queue_depth',
    help: 'Images accepted and not yet handed to an inference worker (decoding or waiting for a batch)',
    registers,
    collect() {
      this.set(sources.queueDepth());
    },
  });
  new Gauge({
    name: 'footwear_batcher_waiting',
    help: 'Decoded images waiting in the batcher for a free worker',
    registers,
    collect() {
      this.set(sources.batchesWaiting());
    },
  });
  new Gauge({
    name: 'footwear_workers_busy',
    help: 'Inference workers running a batch',
    registers,
    collect() {
      this.set(sources.busyWorkers());
    },
  });
  new Gauge({
    name: 'footwear_batch_buffer_bytes',
    help: 'Memory held in reusable batch buffers (filling, spare, or with a worker)',
    registers,
    collect() {
      this.set(sources.batchBufferBytes());
    },
  });
  return {
    registry,
    requests: new Counter({ name: 'footwear_http_requests_total', help: 'HTTP requests answered, by route, method and status', labelNames: ['route', 'method', 'status'], registers }),
    errors: new Counter({ name: 'footwear_errors_total', help: 'Errors answered (per request, or per file of a batch upload), by kind', labelNames: ['kind'], registers }),
    latency: new Histogram({
      name: 'footwear_http_request_duration_seconds',
      help: 'Time from request received to response sent, by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchSize: new Histogram({ name: 'footwear_batch_size', help: 'Images per inference batch', buckets: [...sizes, maxBatch], registers }),
    inference: new Histogram({
      name: 'footwear_inference_duration_seconds',
      help: 'Time an inference worker took for one batch, including the transfer to and from it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    // What an autoscaler scales on, like Triton's nv_inference_queue_duration_us: rate(_sum) /
    // rate(_count) is the average wait, which grows once replicas fall behind (deploy/).
    queueWait: new Histogram({
      name: 'footwear_queue_wait_seconds',
      help: 'Time each decoded image waited in the batcher, from taking its seat in a batch until that batch went to an inference worker',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}
