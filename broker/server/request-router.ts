import { ErrorCode } from '../../protocol/error-codes.js';
import { ProtocolError } from '../../protocol/errors.js';
import { ApiVersionsResponse } from '../../protocol/messages/api-versions.js';
import type { ApiPair } from '../../protocol/messages/index.js';
import { ByteReader } from '../../protocol/wire/byte-reader.js';
import { ByteWriter } from '../../protocol/wire/byte-writer.js';
import { isFlexible, readMessage, writeMessage } from '../../protocol/wire/codec.js';
import {
  API_VERSIONS_KEY,
  type RequestHeader,
  readRequestHeaderPrefix,
  responseHeaderIsFlexible,
  skipHeaderTaggedFields,
  writeResponseHeader,
} from '../../protocol/wire/headers.js';
import type { MessageInput, MessageValue } from '../../protocol/wire/schema.js';
import type { Logger } from '../common/logger.js';
import type { ConnectionInfo } from './connection.js';

/** What a handler knows about the request it is serving. */
export interface RequestContext {
  header: RequestHeader;
  connection: ConnectionInfo;
}

/**
 * Serves one API. `minVersion..maxVersion` is exactly what the broker advertises for it; the
 * schemas may define more. Returning null sends no response (acks=0 produce).
 */
export interface ApiHandler<A extends ApiPair = ApiPair> {
  readonly api: A;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(
    request: MessageValue<A['request']>,
    version: number,
    context: RequestContext,
  ): Promise<MessageInput<A['response']> | null>;
}

/** The request could not be parsed; the connection is closed because framing can no longer be trusted. */
export class MalformedRequestError extends ProtocolError {
  override name = 'MalformedRequestError';
  constructor(
    readonly apiKey: number | undefined,
    readonly apiVersion: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`malformed request (api ${apiKey ?? '?'} v${apiVersion ?? '?'})`, options);
  }
}

export interface RequestObserver {
  onRequest(apiName: string, durationSeconds: number, requestBytes: number, responseBytes: number): void;
}

/** Decodes request frames, dispatches them to handlers, and encodes their responses. */
export class RequestRouter {
  private readonly handlers = new Map<number, ApiHandler>();
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;

  constructor(
    handlers: readonly ApiHandler[],
    private readonly logger: Logger,
    private readonly observer?: RequestObserver,
  ) {
    this.register(handlers);
  }

  /**
   * Holds every request until `open()`: a broker binds its listener (its port goes into its lease)
   * before the components behind the handlers exist, and clients or other brokers that connect in
   * between must wait rather than be told an API is unsupported.
   */
  hold(): void {
    this.gate ??= new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  open(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }

  /** Adds handlers; a later handler for the same API replaces an earlier one. */
  register(handlers: readonly ApiHandler[]): void {
    for (const handler of handlers) this.handlers.set(handler.api.apiKey, handler);
  }

  /** The ApiVersions table: exactly the APIs and versions that have handlers. */
  supportedApis(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.handlers.values()]
      .map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  async handleFrame(frame: Buffer, connection: ConnectionInfo): Promise<Buffer | null> {
    if (this.gate) await this.gate;
    const started = process.hrtime.bigint();
    const reader = new ByteReader(frame);
    let header: RequestHeader;
    try {
      header = readRequestHeaderPrefix(reader);
    } catch (error) {
      throw new MalformedRequestError(undefined, undefined, { cause: error });
    }
    const handler = this.handlers.get(header.apiKey);
    if (!handler || header.apiVersion < handler.minVersion || header.apiVersion > handler.maxVersion) {
      return this.unsupportedVersion(header, connection);
    }
    const { api } = handler;
    let request: MessageValue<typeof api.request>;
    try {
      if (isFlexible(api.request, header.apiVersion)) skipHeaderTaggedFields(reader);
      request = readMessage(reader, api.request, header.apiVersion);
    } catch (error) {
      throw new MalformedRequestError(header.apiKey, header.apiVersion, { cause: error });
    }
    const response = await handler.handle(request, header.apiVersion, { header, connection });
    if (response === null) return null;
    const body = this.encodeResponse(api, header, response);
    this.observer?.onRequest(
      api.name,
      Number(process.hrtime.bigint() - started) / 1e9,
      frame.length,
      body.length,
    );
    return body;
  }

  private encodeResponse(
    api: ApiPair,
    header: RequestHeader,
    response: MessageValue<ApiPair['response']>,
  ): Buffer {
    const writer = new ByteWriter(256);
    const flexible = isFlexible(api.response, header.apiVersion);
    writeResponseHeader(writer, header.correlationId, responseHeaderIsFlexible(api.apiKey, flexible));
    writeMessage(writer, api.response, header.apiVersion, response);
    // The writer is discarded, so its view needs no copy (fetch responses carry whole batches).
    return writer.toBuffer();
  }

  /**
   * A version the broker does not serve. ApiVersions gets a v0 response carrying the supported
   * ranges, so the client can retry with a version both sides know (KIP-511). Any other API gets
   * a bare UNSUPPORTED_VERSION error code after the correlation id; a well-behaved client never
   * sends one, since it negotiates through ApiVersions first.
   */
  private unsupportedVersion(header: RequestHeader, connection: ConnectionInfo): Buffer {
    this.logger.info(
      {
        apiKey: header.apiKey,
        apiVersion: header.apiVersion,
        clientId: header.clientId,
        remote: connection.remoteAddress,
      },
      'unsupported api or version',
    );
    const writer = new ByteWriter(64);
    writeResponseHeader(writer, header.correlationId, false);
    if (header.apiKey === API_VERSIONS_KEY) {
      writeMessage(writer, ApiVersionsResponse, 0, {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        apiKeys: this.supportedApis(),
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1,
        finalizedFeatures: [],
        zkMigrationReady: false,
      });
    } else {
      writer.int16(ErrorCode.UNSUPPORTED_VERSION);
    }
    return writer.toBuffer();
  }
}
