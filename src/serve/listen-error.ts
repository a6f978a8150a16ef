import { UserError } from '../core/index.ts';

// Node's errors from binding a port or resolving a host name ("listen EADDRINUSE: address already
// in use 127.0.0.1:8080", "getaddrinfo ENOTFOUND ...") arrive with a stack and no flag. Each one
// here is the operator's to fix, so it becomes one line naming --host or --port.

/** The user-facing error for a failed listen on host:port, or undefined for anything else. */
export function listenError(error: unknown, host: string, port: number): UserError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new UserError(`--port ${port}: ${where} is already in use by another program; stop it, or choose another --port (0: any free port)`);
    case 'EACCES':
      return new UserError(`--port ${port}: not allowed to listen on ${where} (ports below 1024 need privileges); choose a --port from 1024 to 65535`);
    case 'EADDRNOTAVAIL':
      return new UserError(`--host should be an address of this machine (e.g. 127.0.0.1, or 0.0.0.0 for all interfaces), got ${host}: not available here`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new UserError(`--host should be an IP address or a host name that resolves (e.g. 127.0.0.1, 0.0.0.0, localhost), got ${host}: not found (${code})`);
    default:
      return undefined;
  }
}
