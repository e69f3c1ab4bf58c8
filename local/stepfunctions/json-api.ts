import { createServer, type IncomingMessage, type Server } from 'node:http';
import { listen } from '../listen.js';

/** A local stand-in for one AWS JSON API on loopback, as the SDK clients reach it. */
export interface JsonApiServer {
  readonly endpoint: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** What one call answers: its status, the error-type header a REST-JSON error carries, the body. */
export interface JsonAnswer {
  readonly status: number;
  readonly payload: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Serves `answer(request, parsed JSON body)` on `port` (0: any free one) of 127.0.0.1. */
export async function serveJsonApi(
  port: number,
  contentType: string,
  answer: (req: IncomingMessage, body: Record<string, unknown>) => JsonAnswer,
): Promise<JsonApiServer> {
  const server = createServer(async (req, res) => {
    let out: JsonAnswer;
    try {
      const text = await readBody(req);
      out = answer(req, text ? (JSON.parse(text) as Record<string, unknown>) : {});
    } catch (err) {
      out = { status: 400, payload: { message: `the request body is not JSON: ${(err as Error).message}` } };
    }
    res.writeHead(out.status, { 'content-type': contentType, ...out.headers });
    res.end(JSON.stringify(out.payload));
  });
  const { port: bound } = await listen(server, port);
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
