/**
 * A minimal acks=all writer for the failover benchmark: one partition, one request at a time, as
 * fast as the cluster acknowledges. It finds the leader through Metadata from any running broker,
 * writes to it over a raw connection, and on any error or lost connection looks the leader up again
 * at once (every 20 ms while nobody answers), so what it measures is the cluster's failover, not a
 * client library's retry backoff. Every acknowledgement is kept with the broker that gave it.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  connectWithin,
  DeadlineError,
  errorName,
  metadataFromAny,
  produceOnce,
  sleep,
  valuesBatch,
} from '../../test/chaos/cluster/wire.js';
import type { RawClient } from '../../test/helpers/raw-client.js';

export interface Ack {
  at: number;
  leader: number;
  offset: number;
}

export interface LeaderSighting {
  at: number;
  leader: number;
  leaderEpoch: number;
}

export class AcksAllWriter {
  readonly acks: Ack[] = [];
  /** Each change of leader seen in Metadata. */
  readonly sightings: LeaderSighting[] = [];
  readonly errors = new Map<string, number>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private seq = 0;

  constructor(
    private readonly topic: string,
    private readonly brokers: () => { nodeId: number; port: number }[],
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** The first acknowledgement after `time` by a broker other than `not`. */
  firstAckAfter(time: number, not: number): Ack | undefined {
    let lo = 0;
    let hi = this.acks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.acks[mid]!.at <= time) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.acks.length; i++) if (this.acks[i]!.leader !== not) return this.acks[i];
    return undefined;
  }

  firstSightingAfter(time: number, not: number): LeaderSighting | undefined {
    return this.sightings.find((s) => s.at > time && s.leader !== not && s.leader >= 0);
  }

  private count(what: string): void {
    this.errors.set(what, (this.errors.get(what) ?? 0) + 1);
  }

  private async connectToLeader(): Promise<{ client: RawClient; leader: number } | undefined> {
    const brokers = this.brokers();
    if (brokers.length === 0) return undefined;
    const start = Math.floor(Math.random() * brokers.length);
    const meta = await metadataFromAny(
      [...brokers.slice(start), ...brokers.slice(0, start)],
      this.topic,
      1000,
    );
    const p = meta.partitions[0];
    if (!p) return undefined;
    const last = this.sightings[this.sightings.length - 1];
    if (!last || last.leader !== p.leader || last.leaderEpoch !== p.leaderEpoch)
      this.sightings.push({ at: Date.now(), leader: p.leader, leaderEpoch: p.leaderEpoch });
    if (p.leader < 0) return undefined;
    const port = meta.brokers.find((b) => b.nodeId === p.leader)?.port;
    if (port === undefined) return undefined;
    return { client: await connectWithin(port, 1000), leader: p.leader };
  }

  private async run(): Promise<void> {
    let conn: { client: RawClient; leader: number } | undefined;
    while (!this.stopped) {
      if (!conn) {
        try {
          conn = await this.connectToLeader();
        } catch (error) {
          this.count(`lookup: ${(error as Error).message.replace(/\d+/g, 'N').slice(0, 80)}`);
        }
        if (!conn) {
          await sleep(20);
          continue;
        }
      }
      try {
        const r = await produceOnce(conn.client, this.topic, 0, valuesBatch([`w-${this.seq++}`]), {
          acks: -1,
          timeoutMs: 10_000,
          deadlineMs: 12_000,
        });
        if (r.errorCode === ErrorCode.NONE) {
          this.acks.push({ at: Date.now(), leader: conn.leader, offset: r.baseOffset });
          continue;
        }
        this.count(`produce: ${errorName(r.errorCode)}`);
      } catch (error) {
        this.count(`produce: ${error instanceof DeadlineError ? 'no answer' : (error as Error).name}`);
      }
      conn.client.close();
      conn = undefined;
    }
    conn?.client.close();
  }
}
