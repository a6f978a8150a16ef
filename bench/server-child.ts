// The server under test for bench/server.ts and bench/server-soak.ts, in its own process so that the
// load generator does not share its event loop. Reads ServeOptions as JSON, prints {"url","pid"} once
// ready (the pid lets a soak read this process's memory), drains on SIGTERM.
// Usage: node --import tsx bench/server-child.ts '{"model":"DIR","maxBatch":16}'
import { startServer, type ServeOptions } from '../src/serve/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as ServeOptions;
// Loopback only, whatever the JSON says: load tests never leave this machine.
const server = await startServer({ ...options, host: '127.0.0.1', port: 0, log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
