import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, KafkaConnection } from '../../../client/kafka-connection.js';
import { APIS } from '../../../protocol/messages/index.js';
import { ByteWriter } from '../../../protocol/wire/byte-writer.js';
import { writeMessage } from '../../../protocol/wire/codec.js';
import { writeResponseHeader } from '../../../protocol/wire/headers.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A fake broker answering ApiVersions v0 requests via `respond`, which decides how to write. */
async function fakeBroker(
  respond: (socket: Socket, correlationId: number, frame: Buffer) => void,
): Promise<number> {
  const server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const size = buffered.readInt32BE(0);
        const request = buffered.subarray(4, 4 + size);
        buffered = buffered.subarray(4 + size);
        const correlationId = request.readInt32BE(4);
        const writer = new ByteWriter();
        writeResponseHeader(writer, correlationId, false);
        writeMessage(writer, APIS.ApiVersions.response, 0, {
          errorCode: 0,
          apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: correlationId }],
        });
        const body = writer.toBuffer();
        const frame = Buffer.alloc(4 + body.length);
        frame.writeInt32BE(body.length, 0);
        body.copy(frame, 4);
        respond(socket, correlationId, frame);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

describe('KafkaConnection', () => {
  it('reassembles responses split into single bytes and matches pipelined requests', async () => {
    const port = await fakeBroker((socket, _id, frame) => {
      for (const byte of frame) socket.write(Buffer.from([byte]));
    });
    const connection = await KafkaConnection.connect('127.0.0.1', port, { clientId: 'test' });
    const responses = await Promise.all([0, 1, 2].map(() => connection.request(APIS.ApiVersions, 0, {})));
    expect(responses.map((r) => r.apiKeys[0]!.maxVersion)).toEqual([1, 2, 3]);
    connection.close();
  });

  it('matches responses that arrive out of request order, and several frames in one chunk', async () => {
    const held: Buffer[] = [];
    const port = await fakeBroker((socket, _id, frame) => {
      held.push(frame);
      if (held.length === 2) socket.write(Buffer.concat([held[1]!, held[0]!]));
    });
    const connection = await KafkaConnection.connect('127.0.0.1', port, { clientId: 'test' });
    const [first, second] = await Promise.all([
      connection.request(APIS.ApiVersions, 0, {}),
      connection.request(APIS.ApiVersions, 0, {}),
    ]);
    expect(first.apiKeys[0]!.maxVersion).toBe(1);
    expect(second.apiKeys[0]!.maxVersion).toBe(2);
    connection.close();
  });

  it('fails every outstanding request and closes on a timeout', async () => {
    const port = await fakeBroker(() => undefined);
    const connection = await KafkaConnection.connect('127.0.0.1', port, { clientId: 'test' });
    const pending = [
      connection.request(APIS.ApiVersions, 0, {}, 50),
      connection.request(APIS.ApiVersions, 0, {}, 5000),
    ];
    for (const request of pending) await expect(request).rejects.toBeInstanceOf(ConnectionError);
    expect(connection.isClosed).toBe(true);
    await expect(connection.request(APIS.ApiVersions, 0, {})).rejects.toBeInstanceOf(ConnectionError);
  });

  it('rejects connecting to a closed port with a ConnectionError', async () => {
    const port = await fakeBroker(() => undefined);
    servers.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(KafkaConnection.connect('127.0.0.1', port, { clientId: 'test' })).rejects.toBeInstanceOf(
      ConnectionError,
    );
  });
});
