import type { Socket } from 'node:net';
import type { Logger } from '../common/logger.js';
import { FrameDecoder } from './frame-decoder.js';

/**
 * What a connection needs from the request layer: turn one request frame into one response frame
 * (null when the request expects none, as with acks=0 produce).
 */
export type FrameHandler = (frame: Buffer, connection: ConnectionInfo) => Promise<Buffer | null>;

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
}

export interface ConnectionLimits {
  /** Largest request frame accepted (Kafka's socket.request.max.bytes). */
  maxRequestBytes: number;
  /** Requests read but not yet answered; past this the connection stops reading. */
  maxInFlightRequests: number;
}

/**
 * One client connection. Requests may be processed concurrently, but responses are written
 * strictly in request order, as Kafka clients require (they match by order as well as by
 * correlation id). When `maxInFlightRequests` are pending, the socket is paused, so a client that
 * pipelines too much gets TCP backpressure instead of unbounded broker memory.
 *
 * A frame with an impossible size closes the connection: the stream can no longer be framed.
 */
export class Connection implements ConnectionInfo {
  private readonly decoder: FrameDecoder;
  private readonly pending: Promise<Buffer | null>[] = [];
  private draining = false;
  private closed = false;
  readonly remoteAddress: string;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly logger: Logger,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.decoder = new FrameDecoder(limits.maxRequestBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.logger.debug({ err: error, connection: this.id }, 'socket error'));
    socket.on('close', () => {
      this.closed = true;
      this.onClose(this);
    });
  }

  get inFlight(): number {
    return this.pending.length;
  }

  private onData(chunk: Buffer): void {
    for (const event of this.decoder.push(chunk)) {
      if (event.kind === 'invalid-size') {
        this.logger.warn(
          {
            connection: this.id,
            remote: this.remoteAddress,
            size: event.size,
            max: this.limits.maxRequestBytes,
          },
          'closing connection: request size out of bounds',
        );
        this.close();
        return;
      }
      this.pending.push(this.handler(event.frame, this));
    }
    if (this.pending.length >= this.limits.maxInFlightRequests) this.socket.pause();
    void this.drain();
  }

  /** Writes finished responses in request order; resumes reading once below the in-flight limit. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.length > 0 && !this.closed) {
        let response: Buffer | null;
        try {
          response = await this.pending[0]!;
        } catch (error) {
          // Handlers answer errors themselves; reaching here means a bug, and the response stream
          // is no longer trustworthy.
          this.logger.error(
            { err: error, connection: this.id },
            'request handler failed; closing connection',
          );
          this.close();
          return;
        }
        this.pending.shift();
        if (response) this.write(response);
        if (this.pending.length < this.limits.maxInFlightRequests && this.socket.isPaused())
          this.socket.resume();
      }
    } finally {
      this.draining = false;
    }
  }

  private write(body: Buffer): void {
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(body.length, 0);
    this.socket.cork();
    this.socket.write(size);
    this.socket.write(body);
    this.socket.uncork();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  /** Stops reading, waits for pending responses to be written, then closes. */
  async closeGracefully(timeoutMs: number): Promise<void> {
    this.socket.pause();
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length > 0 && !this.closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (!this.closed) this.socket.end();
    this.closed = true;
  }
}
