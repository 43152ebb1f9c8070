import { connect, type Socket } from 'node:net';
import type { ApiPair } from '../../protocol/messages/index.js';
import { ByteReader } from '../../protocol/wire/byte-reader.js';
import { ByteWriter } from '../../protocol/wire/byte-writer.js';
import { isFlexible, readMessage, writeMessage } from '../../protocol/wire/codec.js';
import {
  readResponseHeader,
  responseHeaderIsFlexible,
  writeRequestHeader,
} from '../../protocol/wire/headers.js';
import type { MessageInput, MessageValue } from '../../protocol/wire/schema.js';

/**
 * A minimal Kafka client over one socket, built on Spool's own codec, for tests that need exact
 * control: pipelining, raw frames, and observing exactly what the broker sends back.
 */
export class RawClient {
  private buffered = Buffer.alloc(0);
  private readonly waiting: ((frame: Buffer) => void)[] = [];
  private correlationId = 1;
  closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.waiting.shift()?.(frame);
      }
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Resolves with the next response frame (without its size prefix). */
  nextFrame(): Promise<Buffer> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Encodes and sends a request; returns its correlation id. */
  send<A extends ApiPair>(api: A, version: number, body: MessageInput<A['request']>): number {
    const correlationId = this.correlationId++;
    const writer = new ByteWriter();
    writeRequestHeader(
      writer,
      { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: 'raw' },
      isFlexible(api.request, version),
    );
    writeMessage(writer, api.request, version, body);
    const payload = writer.toBuffer();
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length, 0);
    this.socket.write(Buffer.concat([size, payload]));
    return correlationId;
  }

  /** Decodes a response frame for `api` at `version`. */
  static decode<A extends ApiPair>(
    api: A,
    version: number,
    frame: Buffer,
  ): { correlationId: number; body: MessageValue<A['response']> } {
    const reader = new ByteReader(frame);
    const { correlationId } = readResponseHeader(
      reader,
      responseHeaderIsFlexible(api.apiKey, isFlexible(api.response, version)),
    );
    return { correlationId, body: readMessage(reader, api.response, version) as MessageValue<A['response']> };
  }

  async request<A extends ApiPair>(
    api: A,
    version: number,
    body: MessageInput<A['request']>,
  ): Promise<MessageValue<A['response']>> {
    const response = this.nextFrame();
    const correlationId = this.send(api, version, body);
    const decoded = RawClient.decode(api, version, await response);
    if (decoded.correlationId !== correlationId)
      throw new Error(`correlation id ${decoded.correlationId} != ${correlationId}`);
    return decoded.body;
  }

  close(): void {
    this.socket.destroy();
  }
}
