import { ProtocolError } from '../errors.js';
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';

/**
 * Request header v0-v2 and response header v0-v1.
 *
 *   request v0: apiKey int16, apiVersion int16, correlationId int32
 *   request v1: + clientId (nullable, always a classic int16-length string)
 *   request v2: + tagged fields                       (used by flexible request versions)
 *   response v0: correlationId int32
 *   response v1: + tagged fields                      (used by flexible response versions)
 *
 * Exception: ApiVersions responses always use header v0, so that a client that sent a version the
 * broker does not know can still parse the answer (KIP-511).
 */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export const API_VERSIONS_KEY = 18;

/** Reads the fixed part of a request header (v1 layout, which every live client uses). */
export function readRequestHeaderPrefix(reader: ByteReader): RequestHeader {
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientIdLength = reader.int16();
  if (clientIdLength < -1) throw new ProtocolError(`invalid client id length ${clientIdLength}`);
  const clientId = clientIdLength < 0 ? null : reader.bytes(clientIdLength).toString('utf8');
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Skips the tagged-field section of a v2 request header (Spool defines no header tags). */
export function skipHeaderTaggedFields(reader: ByteReader): void {
  const count = reader.unsignedVarint();
  for (let i = 0; i < count; i++) {
    reader.unsignedVarint();
    reader.bytes(reader.unsignedVarint());
  }
}

export function writeRequestHeader(writer: ByteWriter, header: RequestHeader, flexible: boolean): void {
  writer.int16(header.apiKey).int16(header.apiVersion).int32(header.correlationId);
  if (header.clientId === null) writer.int16(-1);
  else {
    const bytes = Buffer.from(header.clientId, 'utf8');
    writer.int16(bytes.length).raw(bytes);
  }
  if (flexible) writer.unsignedVarint(0);
}

export function responseHeaderIsFlexible(apiKey: number, flexibleResponse: boolean): boolean {
  return flexibleResponse && apiKey !== API_VERSIONS_KEY;
}

export function writeResponseHeader(writer: ByteWriter, correlationId: number, flexible: boolean): void {
  writer.int32(correlationId);
  if (flexible) writer.unsignedVarint(0);
}

export function readResponseHeader(reader: ByteReader, flexible: boolean): { correlationId: number } {
  const correlationId = reader.int32();
  if (flexible) skipHeaderTaggedFields(reader);
  return { correlationId };
}
