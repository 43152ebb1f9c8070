import { connect, type Socket } from 'node:net';
import type { ApiPair } from '../protocol/messages/index.js';
import { ByteReader } from '../protocol/wire/byte-reader.js';
import { ByteWriter } from '../protocol/wire/byte-writer.js';
import { isFlexible, readMessage, writeMessage } from '../protocol/wire/codec.js';
import {
  readResponseHeader,
  responseHeaderIsFlexible,
  writeRequestHeader,
} from '../protocol/wire/headers.js';
import type { MessageInput, MessageValue } from '../protocol/wire/schema.js';

/** The connection failed, was closed, or a request on it timed out. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  constructor(
    message: string,
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface KafkaConnectionOptions {
  clientId: string;
  /** Per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

interface Pending {
  api: ApiPair;
  version: number;
  resolve: (body: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One TCP connection to a Kafka-protocol broker, with pipelined requests matched to responses by
 * correlation id. Any socket error or request timeout fails every outstanding request and closes
 * the connection: after a timeout the stream position is unknown, so it cannot be reused.
 */
export class KafkaConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: ConnectionError | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
    private readonly options: KafkaConnectionOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) =>
      this.fail(new ConnectionError(error.message, host, port, { cause: error })),
    );
    socket.on('close', () => this.fail(new ConnectionError('connection closed', host, port)));
  }

  static connect(host: string, port: number, options: KafkaConnectionOptions): Promise<KafkaConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionError(`connect to ${host}:${port} timed out`, host, port));
      }, options.connectTimeoutMs ?? 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new KafkaConnection(socket, host, port, options));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new ConnectionError(error.message, host, port, { cause: error }));
      });
    });
  }

  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  request<A extends ApiPair>(
    api: A,
    version: number,
    body: MessageInput<A['request']>,
    timeoutMs = this.options.requestTimeoutMs ?? 30_000,
  ): Promise<MessageValue<A['response']>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const correlationId = this.nextCorrelationId++;
    const frame = this.frame(api, version, correlationId, body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new ConnectionError(`${api.name} request timed out after ${timeoutMs} ms`, this.host, this.port),
        );
      }, timeoutMs);
      this.pending.set(correlationId, {
        api,
        version,
        resolve: resolve as (body: unknown) => void,
        reject,
        timer,
      });
      this.socket.write(frame);
    });
  }

  /**
   * Sends a request the broker does not answer (Produce with acks=0): nothing is registered to
   * await a response, so the responses of other requests still match up. Resolves once written.
   */
  sendWithoutResponse<A extends ApiPair>(
    api: A,
    version: number,
    body: MessageInput<A['request']>,
  ): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    const frame = this.frame(api, version, this.nextCorrelationId++, body);
    return new Promise((resolve, reject) => {
      this.socket.write(frame, (error) => (error ? reject(error) : resolve()));
    });
  }

  private frame<A extends ApiPair>(
    api: A,
    version: number,
    correlationId: number,
    body: MessageInput<A['request']>,
  ): Buffer {
    const writer = new ByteWriter();
    writer.int32(0); // the frame size, written below
    writeRequestHeader(
      writer,
      { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: this.options.clientId },
      isFlexible(api.request, version),
    );
    writeMessage(writer, api.request, version, body);
    const frame = writer.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    return frame;
  }

  /**
   * Buffers chunks until a whole frame is present and only then joins them, so a large response
   * arriving in many chunks is copied once, not once per chunk.
   */
  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const needed = 4 + this.chunks[0]!.readInt32BE(0);
      if (this.buffered < needed) return;
      const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const rest = data.subarray(needed);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.onFrame(data.subarray(4, needed));
    }
  }

  private onFrame(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const pending = this.pending.get(correlationId);
    if (!pending) {
      this.fail(new ConnectionError(`unexpected correlation id ${correlationId}`, this.host, this.port));
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(pending.timer);
    try {
      const reader = new ByteReader(frame);
      readResponseHeader(
        reader,
        responseHeaderIsFlexible(pending.api.apiKey, isFlexible(pending.api.response, pending.version)),
      );
      pending.resolve(readMessage(reader, pending.api.response, pending.version));
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private fail(error: ConnectionError): void {
    if (!this.closedError) this.closedError = error;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
    this.socket.destroy();
  }

  close(): void {
    this.fail(new ConnectionError('connection closed by client', this.host, this.port));
  }
}
