import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** API Gateway HTTP API's payload quota ("10 MB", not adjustable); bigger requests never reach a Lambda. */
export const HTTP_API_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** A request body over the limit: answer 413 and close the connection. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/**
 * Reads a request body of at most `limit` bytes. A larger one is refused as soon as that is
 * known — from Content-Length before reading anything, or while streaming a chunked body — and
 * the request is left paused, so memory never follows what a client chooses to send.
 */
export function readBodyWithin(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.pause();
    return Promise.reject(new PayloadTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** How long a refused upload's connection stays half-open for the client to read the answer. */
const LINGER_MS = 2000;

/**
 * Makes the server close `socket` gently after a `Connection: close` answer to a request whose
 * body it stopped reading. Node destroys such a socket right after sending the answer, and closing
 * with unread bytes makes the kernel send a reset that can reach the client before it has read the
 * answer (it then sees only ECONNRESET). So, like nginx's lingering close, send FIN and wait —
 * still reading nothing — until the client closes or LINGER_MS pass; only then destroy.
 */
export function lingerBeforeClose(socket: Socket): void {
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}
