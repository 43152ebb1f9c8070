import type { Socket } from 'node:net';
import type { Logger } from '../common/logger.js';
import { FrameDecoder } from './frame-decoder.js';

/**
 * What a connection needs from the request layer: turn one request frame into one response frame,
 * null when the request expects none (acks=0 produce), or CLOSE_CONNECTION when the stream can no
 * longer be trusted (a malformed request).
 */
export const CLOSE_CONNECTION = Symbol('close-connection');
export type FrameResult = Buffer | null | typeof CLOSE_CONNECTION;
export type FrameHandler = (frame: Buffer, connection: ConnectionInfo) => Promise<FrameResult>;

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  /** Aborted when the connection closes, so long waits (fetch long polls) stop early. */
  readonly closedSignal: AbortSignal;
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
  private readonly pending: Promise<FrameResult>[] = [];
  /** Complete frames read but not yet handed to the handler (only while at the in-flight limit). */
  private readonly backlog: Buffer[] = [];
  private readonly closing = new AbortController();
  readonly closedSignal = this.closing.signal;
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
      this.closing.abort();
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
      this.backlog.push(event.frame);
    }
    this.dispatch();
  }

  private dispatch(): void {
    this.fillWindow();
    void this.drain();
  }

  /**
   * Starts handling backlogged frames while fewer than `maxInFlightRequests` are pending. Frames
   * past the limit wait here with the socket paused, so even one TCP chunk full of pipelined
   * requests cannot exceed the limit.
   */
  private fillWindow(): void {
    while (this.backlog.length > 0 && this.pending.length < this.limits.maxInFlightRequests) {
      this.pending.push(this.handle(this.backlog.shift()!));
    }
    const saturated = this.backlog.length > 0 || this.pending.length >= this.limits.maxInFlightRequests;
    if (saturated && !this.socket.isPaused()) this.socket.pause();
    else if (!saturated && this.socket.isPaused() && !this.closed) this.socket.resume();
  }

  /**
   * A rejection becomes a close at once, so none is ever left unobserved while earlier responses
   * are still awaited (an unhandled rejection would end the process).
   */
  private handle(frame: Buffer): Promise<FrameResult> {
    return this.handler(frame, this).catch((error: unknown) => {
      this.logger.error({ err: error, connection: this.id }, 'request handler failed; closing connection');
      return CLOSE_CONNECTION;
    });
  }

  /** Writes finished responses in request order, refilling the in-flight window as slots free up. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.length > 0 && !this.closed) {
        const response = await this.pending[0]!;
        this.pending.shift();
        if (response === CLOSE_CONNECTION) {
          this.close();
          return;
        }
        if (response) this.write(response);
        this.fillWindow();
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
