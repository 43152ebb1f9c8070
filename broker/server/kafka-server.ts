import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../common/logger.js';
import { CLOSE_CONNECTION, Connection, type ConnectionLimits } from './connection.js';
import { MalformedRequestError, type RequestRouter } from './request-router.js';

/**
 * The Kafka listener: accepts TCP connections and hands each one's frames to the router. Owns
 * nothing but sockets, so it can be stopped gracefully (drain in-flight requests, then close).
 */
export class KafkaServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;

  constructor(
    private readonly router: RequestRouter,
    private readonly limits: ConnectionLimits,
    private readonly logger: Logger,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private accept(socket: Socket): void {
    const id = this.nextConnectionId++;
    const connection = new Connection(
      id,
      socket,
      async (frame, info) => {
        try {
          return await this.router.handleFrame(frame, info);
        } catch (error) {
          if (!(error instanceof MalformedRequestError)) throw error;
          // One line, no stack: a hostile client must not be able to flood the logs.
          this.logger.warn(
            {
              connection: id,
              remote: info.remoteAddress,
              apiKey: error.apiKey,
              apiVersion: error.apiVersion,
              reason: innermostMessage(error),
            },
            'closing connection: malformed request',
          );
          return CLOSE_CONNECTION;
        }
      },
      this.limits,
      this.logger,
      (closed) => this.connections.delete(closed),
    );
    this.connections.add(connection);
  }

  /** Stops accepting, lets in-flight requests finish (up to `timeoutMs`), then closes everything. */
  async close(timeoutMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.connections].map((c) => c.closeGracefully(timeoutMs)));
    await closed;
  }
}

/** The innermost cause's message, which names what was wrong with the bytes. */
function innermostMessage(error: Error): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
