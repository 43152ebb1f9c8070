import { expect } from 'vitest';
import type { DevCluster } from '../../broker/local/dev-cluster.js';
import { KafkaConnection } from '../../client/kafka-connection.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { APIS } from '../../protocol/messages/index.js';
import { makeBatch, recordsOf } from './batches.js';

const { Metadata: METADATA, Produce: PRODUCE, Fetch: FETCH } = APIS;
const NO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * Requests to chosen brokers of a local cluster over Spool's own connection, for replication
 * tests: a client library would wait out frozen brokers picked for metadata. `cluster` is read at
 * each call, since tests start the cluster in beforeAll.
 */
export function partitionRequests(cluster: () => DevCluster, clientId: string) {
  async function withBroker<T>(id: number, use: (c: KafkaConnection) => Promise<T>): Promise<T> {
    const broker = cluster().state.brokers.find((b) => b.nodeId === id)!;
    const connection = await KafkaConnection.connect(broker.host, broker.port, {
      clientId,
      requestTimeoutMs: 15_000,
    });
    try {
      return await use(connection);
    } finally {
      connection.close();
    }
  }

  /** Partition 0 of `topic` as broker `via` sees it. */
  async function partitionState(topic: string, via: number) {
    const response = await withBroker(via, (c) =>
      c.request(METADATA, 12, {
        topics: [{ name: topic, topicId: NO_ID }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      }),
    );
    const p = response.topics[0]!.partitions[0]!;
    return { leader: p.leaderId, isr: p.isrNodes, replicas: p.replicaNodes };
  }

  /** Produces one batch to partition 0 on broker `leader`; resolves to the partition's error code. */
  async function produce(
    topic: string,
    leader: number,
    acks: number,
    label: string,
    count = 1,
  ): Promise<number> {
    const response = await withBroker(leader, (c) =>
      c.request(PRODUCE, 9, {
        transactionalId: null,
        acks,
        timeoutMs: 10_000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: makeBatch(count, { label }) }] }],
      }),
    );
    return response.responses[0]!.partitionResponses[0]!.errorCode;
  }

  /** Every record value of partition 0, read from its leader as a consumer. */
  async function readAll(topic: string, leader: number): Promise<string[]> {
    const response = await withBroker(leader, (c) =>
      c.request(FETCH, 12, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic,
            topicId: NO_ID,
            partitions: [
              {
                partition: 0,
                currentLeaderEpoch: -1,
                fetchOffset: 0,
                lastFetchedEpoch: -1,
                logStartOffset: -1,
                partitionMaxBytes: 1 << 20,
                replicaDirectoryId: NO_ID,
              },
            ],
            spoolTagFilter: null,
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      }),
    );
    const partition = response.responses[0]!.partitions[0]!;
    expect(partition.errorCode).toBe(ErrorCode.NONE);
    return recordsOf(partition.records ?? Buffer.alloc(0)).map(([, value]) => value);
  }

  return { withBroker, partitionState, produce, readAll };
}
