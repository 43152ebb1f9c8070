import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerPool } from '../../../client/cluster/index.js';
import { APIS } from '../../../protocol/messages/index.js';
import { ByteWriter } from '../../../protocol/wire/byte-writer.js';
import { writeMessage } from '../../../protocol/wire/codec.js';
import { writeResponseHeader } from '../../../protocol/wire/headers.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A fake broker that only answers ApiVersions (any version), advertising Metadata 0-7. */
async function fakeBroker(sockets: Socket[]): Promise<{ port: number; apiVersionsCalls: () => number }> {
  let calls = 0;
  const server = createServer((socket) => {
    sockets.push(socket);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const request = buffered.subarray(4, 4 + buffered.readInt32BE(0));
        buffered = buffered.subarray(4 + request.length);
        const version = request.readInt16BE(2);
        calls++;
        const writer = new ByteWriter();
        // ApiVersions responses always use header v0 (KIP-511).
        writeResponseHeader(writer, request.readInt32BE(4), false);
        writeMessage(writer, APIS.ApiVersions.response, version, {
          errorCode: 0,
          apiKeys: [
            { apiKey: 18, minVersion: 0, maxVersion: 4 },
            { apiKey: 3, minVersion: 0, maxVersion: 7 },
          ],
        });
        const body = writer.toBuffer();
        const size = Buffer.alloc(4);
        size.writeInt32BE(body.length, 0);
        socket.write(Buffer.concat([size, body]));
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, apiVersionsCalls: () => calls };
}

describe('BrokerPool', () => {
  it('negotiates ApiVersions once per connection, shares it, and reconnects after a failure', async () => {
    const sockets: Socket[] = [];
    const broker = await fakeBroker(sockets);
    const pool = new BrokerPool({ clientId: 'test' });
    pool.setNodes([{ nodeId: 7, host: '127.0.0.1', port: broker.port }]);

    const [a, b] = await Promise.all([pool.forNode(7), pool.forNode(7)]);
    expect(a).toBe(b);
    expect(await pool.forEndpoint({ host: '127.0.0.1', port: broker.port })).toBe(a);
    expect(broker.apiVersionsCalls()).toBe(1);
    expect(a.versions.get(3)).toEqual({ min: 0, max: 7 });

    sockets[0]!.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const c = await pool.forNode(7);
    expect(c).not.toBe(a);
    expect(c.isClosed).toBe(false);
    expect(broker.apiVersionsCalls()).toBe(2);

    await expect(pool.forNode(8)).rejects.toMatchObject({ retriable: true });
    pool.close();
    await expect(pool.forNode(7)).rejects.toThrow(/closed/);
  });
});
