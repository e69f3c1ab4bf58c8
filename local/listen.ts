import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationError } from '../lambdas/domain/errors.js';

/** A port another program holds. `hint` says how the user picks another. */
export class PortInUseError extends ValidationError {
  constructor(
    readonly port: number,
    hint = 'choose another port',
  ) {
    super(`port ${port} is in use; stop what uses it or ${hint}`);
  }
}

/**
 * Listens on `host:port` and resolves with the bound address. A failure to listen is an `error`
 * event, not a callback error: unhandled, it kills the process with a stack trace and leaves the
 * emulators' child processes behind. Here it rejects, so the caller can stop what it started.
 */
export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new PortInUseError(port));
      else reject(new ValidationError(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
