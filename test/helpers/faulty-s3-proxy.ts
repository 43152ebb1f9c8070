import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';

/**
 * An HTTP proxy in front of the S3 emulator that injects faults into real S3 traffic: brokers
 * point AWS_ENDPOINT_URL_S3 at it, and tests make matching requests fail (as S3 does when it
 * throttles or has a 5xx) or hold them (to kill a broker mid-upload). Headers pass through
 * unchanged, so SigV4 signatures (which cover the Host header) still verify at the emulator.
 */

export interface ProxiedRequest {
  method: string;
  path: string;
}

type Match = (request: ProxiedRequest) => boolean;

interface Hold {
  match: Match;
  onReach: (request: ProxiedRequest) => void;
  released: Promise<void>;
}

export class FaultyS3Proxy {
  /** Every request seen, in order. */
  readonly requests: ProxiedRequest[] = [];
  private readonly failures = new Set<{ match: Match; status: number }>();
  private readonly holds = new Set<Hold>();
  private target: URL | undefined;

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<FaultyS3Proxy> {
    let proxy: FaultyS3Proxy | undefined;
    const server = createServer((req, res) => void proxy!.handle(req, res));
    const port = await new Promise<number>((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
    proxy = new FaultyS3Proxy(server, `http://127.0.0.1:${port}`);
    return proxy;
  }

  /** Where requests go (the emulator). Until set, every request gets a 503. */
  forwardTo(endpoint: string): void {
    this.target = new URL(endpoint);
  }

  /** Matching requests fail with `status` until the returned function is called. */
  fail(match: Match, status = 503): () => void {
    const rule = { match, status };
    this.failures.add(rule);
    return () => this.failures.delete(rule);
  }

  /**
   * Holds the first matching request: `reached` resolves when it arrives, and it is forwarded
   * only after `release()`.
   */
  hold(match: Match): { reached: Promise<ProxiedRequest>; release: () => void } {
    let onReach!: (r: ProxiedRequest) => void;
    let release!: () => void;
    const reached = new Promise<ProxiedRequest>((resolve) => {
      onReach = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.holds.add({ match, onReach, released });
    return { reached, release };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const seen = { method: req.method ?? 'GET', path: req.url ?? '/' };
    this.requests.push(seen);
    const body = await readBody(req);
    for (const hold of this.holds) {
      if (!hold.match(seen)) continue;
      this.holds.delete(hold);
      hold.onReach(seen);
      await hold.released;
      break;
    }
    const failure = [...this.failures].find((f) => f.match(seen));
    if (failure || !this.target) {
      const status = failure?.status ?? 503;
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${status === 503 ? 'SlowDown' : 'InternalError'}</Code>` +
          '<Message>injected by the test proxy</Message></Error>',
      );
      return;
    }
    const upstream = request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: seen.method,
        path: seen.path,
        headers: req.headers,
      },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
