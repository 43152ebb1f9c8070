import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../../broker/cluster/aws-config.js';
import {
  BrokerIdInUseError,
  BrokerLease,
  type BrokerLeaseOptions,
  LeaseLostError,
  listLiveBrokers,
} from '../../../broker/cluster/broker-lease.js';
import { ensureTables, tableName } from '../../../broker/cluster/tables.js';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/**
 * BrokerLease against DynamoDB Local. Most tests drive the lease with injected clocks (a mutable
 * `t`), so expiry, skew and slow requests are exact and fast; one test runs the real renewal loop.
 */

const prefix = `lease-${randomUUID().slice(0, 8)}`;
const db = useDynamoDbLocal(prefix);

/** Separate client per holder, so one holder's network can be "cut" without affecting others. */
interface FaultyClient {
  client: DynamoDBDocumentClient;
  /** While true every request fails as if DynamoDB were unreachable. */
  down: boolean;
  /** While true every request hangs forever. */
  hang: boolean;
  /** Called just before each request is sent (after the lease read its clock). */
  beforeSend?: () => void;
}

function faultyClient(): FaultyClient {
  const faulty: FaultyClient = {
    client: createDynamoDocumentClient({
      region: 'us-east-1',
      dynamoDbEndpoint: db.endpoint,
      tablePrefix: prefix,
    }),
    down: false,
    hang: false,
  };
  faulty.client.middlewareStack.add(
    (next) => async (args) => {
      faulty.beforeSend?.();
      if (faulty.hang) return new Promise<never>(() => undefined);
      if (faulty.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return next(args);
    },
    { step: 'initialize', name: 'faultInjection' },
  );
  return faulty;
}

const endpoint = { host: '127.0.0.1', port: 9092 };
const timing = { leaseMs: 6000, renewIntervalMs: 2000, clockSkewMarginMs: 1000 };

function lease(
  client: DynamoDBDocumentClient,
  options: Partial<BrokerLeaseOptions> & { brokerId: number; now: () => number },
): BrokerLease {
  return new BrokerLease(client, prefix, { endpoint, ...timing, ...options });
}

async function stored(brokerId: number): Promise<Record<string, unknown> | undefined> {
  const { Item } = await db.client.send(
    new GetCommand({
      TableName: tableName(prefix, 'cluster'),
      Key: { pk: `broker#${brokerId}`, sk: 'lease' },
      ConsistentRead: true,
    }),
  );
  return Item;
}

describe('BrokerLease', () => {
  it('acquires, renews and releases', async () => {
    let t = 1_000_000;
    const renewed: number[] = [];
    const a = lease(db.client, {
      brokerId: 1,
      rack: 'az1',
      now: () => t,
      onRenewed: (s) => renewed.push(s.expiresAt),
    });
    await a.acquire();
    expect(a.isValid()).toBe(true);
    expect(a.epoch).toBe(1);
    expect(a.validUntil).toBe(t + 5000);
    expect(await stored(1)).toMatchObject({
      brokerId: 1,
      endpoint,
      rack: 'az1',
      incarnation: a.incarnation,
      epoch: 1,
      expiresAt: t + 6000,
      renewedAt: t,
    });

    t += 2000;
    await a.renew();
    expect(a.validUntil).toBe(t + 5000);
    expect((await stored(1))?.expiresAt).toBe(t + 6000);
    expect(renewed).toEqual([1_006_000, 1_008_000]);

    // Re-acquiring with the same incarnation keeps the epoch.
    await a.acquire();
    expect(a.epoch).toBe(1);

    await a.release();
    expect(a.isValid()).toBe(false);
    expect(await stored(1)).toMatchObject({ incarnation: a.incarnation, epoch: 1, expiresAt: 0 });
    await expect(a.renew()).rejects.toMatchObject({ name: 'LeaseLostError', reason: 'released' });

    // A released id is free at once, and the epoch keeps growing.
    const b = lease(db.client, { brokerId: 1, now: () => t });
    await b.acquire();
    expect(b.epoch).toBe(2);
    await b.release();
  });

  it('refuses a second incarnation while the first is live, then takes over after expiry + margin', async () => {
    let t = 2_000_000;
    const fenced: LeaseLostError[] = [];
    const first = lease(db.client, { brokerId: 2, now: () => t, onFenced: (e) => fenced.push(e) });
    await first.acquire();
    const second = lease(db.client, { brokerId: 2, now: () => t });

    const refused = await second.acquire().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BrokerIdInUseError);
    expect(refused).toMatchObject({
      brokerId: 2,
      key: 'broker#2',
      holder: { incarnation: first.incarnation, epoch: 1 },
    });

    // First stops renewing. Nominal expiry (t + 6000) and expiry + margin are not enough...
    for (const at of [6000, 6500, 7000]) {
      t = 2_000_000 + at;
      await expect(second.acquire()).rejects.toBeInstanceOf(BrokerIdInUseError);
    }
    // ...one millisecond later it is.
    t = 2_007_001;
    await second.acquire();
    expect(second.epoch).toBe(2);
    expect(await stored(2)).toMatchObject({ incarnation: second.incarnation, epoch: 2 });

    // The old holder's clock is behind (it thinks it is still valid): its renew is refused and it fences.
    t = 2_004_000; // within first's validUntil
    expect(first.isValid()).toBe(true);
    const lost = await first.renew().catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(LeaseLostError);
    expect(lost).toMatchObject({
      reason: 'taken-over',
      epoch: 1,
      currentHolder: { incarnation: second.incarnation, epoch: 2 },
    });
    expect(first.isValid()).toBe(false);
    expect(fenced).toHaveLength(1);
    expect(fenced[0]).toBe(lost);
    // Permanently fenced: renew and acquire keep failing, onFenced fires only once.
    await expect(first.renew()).rejects.toBe(lost);
    await expect(first.acquire()).rejects.toBe(lost);
    expect(fenced).toHaveLength(1);
    // The taker's lease is untouched by all that.
    expect(await stored(2)).toMatchObject({ incarnation: second.incarnation, epoch: 2 });
  });

  it('acquire({ waitMs }) retries until the holder expires', async () => {
    const first = new BrokerLease(db.client, prefix, {
      brokerId: 3,
      endpoint,
      leaseMs: 600,
      renewIntervalMs: 200,
      clockSkewMarginMs: 100,
    });
    await first.acquire();
    const expiresAt = first.expiresAt;
    const second = new BrokerLease(db.client, prefix, {
      brokerId: 3,
      endpoint,
      leaseMs: 600,
      renewIntervalMs: 200,
      clockSkewMarginMs: 100,
    });
    await expect(second.acquire({ waitMs: 100, retryIntervalMs: 20 })).rejects.toBeInstanceOf(
      BrokerIdInUseError,
    );
    await second.acquire({ waitMs: 3000, retryIntervalMs: 20 });
    expect(Date.now()).toBeGreaterThan(expiresAt + 100);
    expect(second.epoch).toBe(2);
    await second.release();
  });

  it('fences itself at validUntil while renewals fail, strictly before a skewed taker can acquire', async () => {
    let t = 3_000_000; // true time; the holder's clock reads it exactly
    const skew = 999; // the taker's clock runs ahead by just under the margin: the worst case
    const faulty = faultyClient();
    const fenced: LeaseLostError[] = [];
    const holder = lease(faulty.client, { brokerId: 4, now: () => t, onFenced: (e) => fenced.push(e) });
    const taker = lease(db.client, { brokerId: 4, now: () => t + skew });
    await holder.acquire();
    t += 2000;
    await holder.renew();
    const lastSend = t;
    expect(holder.validUntil).toBe(lastSend + 5000);

    faulty.down = true;
    t += 2000;
    await expect(holder.renew()).rejects.toThrow('ECONNREFUSED');
    expect(holder.isValid()).toBe(true); // slow or failing renewals alone do not fence early
    expect(fenced).toHaveLength(0);

    // Walk true time forward; at every step the holder valid => the taker is refused.
    let holderStoppedAt: number | undefined;
    let takerAcquiredAt: number | undefined;
    for (t = lastSend + 4000; t <= lastSend + 8000 && takerAcquiredAt === undefined; t += 250) {
      if (holder.isValid()) {
        await expect(taker.acquire()).rejects.toBeInstanceOf(BrokerIdInUseError);
      } else {
        holderStoppedAt ??= t;
        try {
          await taker.acquire();
          takerAcquiredAt = t;
        } catch (error) {
          expect(error).toBeInstanceOf(BrokerIdInUseError);
        }
      }
    }
    expect(holderStoppedAt).toBe(lastSend + 5000);
    // Taker needs its clock > expiresAt + margin = lastSend + 7000, i.e. true time > lastSend + 6001.
    expect(takerAcquiredAt).toBe(lastSend + 6250);
    expect(holderStoppedAt!).toBeLessThan(takerAcquiredAt!);
    expect(fenced).toHaveLength(1);
    expect(fenced[0]).toMatchObject({ reason: 'expired', epoch: 1 });

    // Exact boundary: valid at validUntil - 1, invalid at validUntil.
    let u = 4_000_000;
    const boundary = lease(db.client, { brokerId: 5, now: () => u });
    await boundary.acquire();
    u = boundary.validUntil - 1;
    expect(boundary.isValid()).toBe(true);
    u += 1;
    expect(boundary.isValid()).toBe(false);
  });

  it('a failing renew past validUntil fences with reason expired', async () => {
    let t = 5_000_000;
    const faulty = faultyClient();
    const fenced: LeaseLostError[] = [];
    const holder = lease(faulty.client, { brokerId: 6, now: () => t, onFenced: (e) => fenced.push(e) });
    await holder.acquire();
    faulty.down = true;
    // The request is sent while still valid, but fails only after validUntil (slow network).
    t += 4999;
    faulty.beforeSend = () => {
      t += 100;
    };
    const lost = await holder.renew().catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(LeaseLostError);
    expect(lost).toMatchObject({ reason: 'expired' });
    expect(fenced).toEqual([lost]);
  });

  it('counts validity from when the renew request was sent, not when it returned', async () => {
    let t = 6_000_000;
    const faulty = faultyClient();
    const holder = lease(faulty.client, { brokerId: 7, now: () => t });
    await holder.acquire();
    t += 2000;
    const sentAt = t;
    faulty.beforeSend = () => {
      t += 1500; // the request takes 1.5 s
    };
    await holder.renew();
    expect(t).toBe(sentAt + 1500);
    expect(holder.validUntil).toBe(sentAt + 5000);
    expect(holder.expiresAt).toBe(sentAt + 6000);
    expect((await stored(7))?.expiresAt).toBe(sentAt + 6000);
  });

  it('renews in the background until stopped, and fires onFenced on time when renewals hang', async () => {
    const faulty = faultyClient();
    const renewals: number[] = [];
    let fencedAt: number | undefined;
    const holder = new BrokerLease(faulty.client, prefix, {
      brokerId: 8,
      endpoint,
      leaseMs: 900,
      renewIntervalMs: 150,
      clockSkewMarginMs: 100,
      onRenewed: (s) => renewals.push(s.expiresAt),
      onFenced: () => {
        fencedAt = Date.now();
      },
    });
    await holder.acquire();
    holder.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(renewals.length).toBeGreaterThanOrEqual(5);
    expect(holder.isValid()).toBe(true); // would have expired by now without the loop
    expect((await stored(8))?.expiresAt).toBe(renewals.at(-1));

    // stop() pauses renewals; start() resumes them.
    holder.stop();
    await new Promise((resolve) => setTimeout(resolve, 20)); // let an in-flight renewal land
    const whileStopped = renewals.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(renewals.length).toBe(whileStopped);
    holder.start();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(renewals.length).toBeGreaterThan(whileStopped);
    expect(holder.isValid()).toBe(true);

    // Renewals now hang forever; the loop must still notice validUntil.
    faulty.hang = true;
    const renewalsBefore = renewals.length;
    const validUntil = holder.validUntil;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(fencedAt).toBeDefined();
    expect(fencedAt!).toBeGreaterThanOrEqual(validUntil);
    expect(fencedAt!).toBeLessThan(validUntil + 200); // before a taker could act (expiry + margin)
    expect(holder.isValid()).toBe(false);
    expect(renewals.length).toBe(renewalsBefore);
    holder.stop();
  });

  it('lists live brokers only', async () => {
    let t = Date.now();
    const listPrefix = `${prefix}-list`;
    await ensureTables(db.client, listPrefix);
    const make = (brokerId: number, rack: string | null) =>
      new BrokerLease(db.client, listPrefix, {
        brokerId,
        endpoint: { host: `b${brokerId}`, port: 9000 + brokerId },
        rack,
        now: () => t,
        ...timing,
      });
    const [b1, b2, b3] = [make(1, 'az1'), make(2, null), make(3, 'az3')];
    await b1.acquire();
    await b2.acquire();
    t += 3000;
    await b3.acquire();
    await b2.release();

    const live = await listLiveBrokers(db.client, listPrefix, t);
    expect(live.map((b) => [b.brokerId, b.endpoint, b.rack, b.incarnation])).toEqual([
      [1, { host: 'b1', port: 9001 }, 'az1', b1.incarnation],
      [3, { host: 'b3', port: 9003 }, 'az3', b3.incarnation],
    ]);
    // b1 expires at t0 + 6000 (= t + 3000); b3 lives on.
    expect(
      (await BrokerLease.listLiveBrokers(db.client, listPrefix, t + 3000)).map((b) => b.brokerId),
    ).toEqual([3]);
    expect(await listLiveBrokers(db.client, listPrefix, t + 10_000)).toEqual([]);
  });
});
