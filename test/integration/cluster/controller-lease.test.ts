import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { BrokerLease, type LeaseLostError } from '../../../broker/cluster/broker-lease.js';
import { ControllerHeldError, ControllerLease } from '../../../broker/cluster/controller-lease.js';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

const prefix = `controller-${randomUUID().slice(0, 8)}`;
const db = useDynamoDbLocal(prefix);

it('elects one controller at a time with a growing controllerEpoch and fences a deposed one', async () => {
  let t = 1_000_000;
  const now = () => t;
  const candidate = (brokerId: number, onFenced?: (e: LeaseLostError) => void) =>
    new ControllerLease(db.client, prefix, {
      brokerId,
      endpoint: { host: `b${brokerId}`, port: 9090 + brokerId },
      now,
      // The timings this scenario's clock steps are written for (the defaults are shorter).
      leaseMs: 6000,
      renewIntervalMs: 2000,
      clockSkewMarginMs: 1000,
      ...(onFenced ? { onFenced } : {}),
    });

  const c1 = candidate(1);
  await c1.acquire();
  expect(c1.controllerEpoch).toBe(1);
  expect(await ControllerLease.current(db.client, prefix, t)).toMatchObject({
    controllerId: 1,
    controllerEpoch: 1,
    incarnation: c1.incarnation,
    endpoint: { host: 'b1', port: 9091 },
  });

  const c2fenced: LeaseLostError[] = [];
  const c2 = candidate(2, (e) => c2fenced.push(e));
  const refused = await c2.acquire().catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ControllerHeldError);
  expect(refused).toMatchObject({ controllerId: 1, holder: { epoch: 1 } });

  // Graceful hand-over: c1 resigns, c2 takes over at once with the next epoch.
  await c1.release();
  await c2.acquire();
  expect(c2.controllerEpoch).toBe(2);

  // c2 stalls (no renewals). A new candidate gets in only after expiry + margin.
  const c3 = candidate(3);
  t += 7000;
  await expect(c3.acquire()).rejects.toBeInstanceOf(ControllerHeldError);
  expect(c2.isValid()).toBe(false); // c2 already stopped acting at t + 5000
  t += 1;
  await c3.acquire();
  expect(c3.controllerEpoch).toBe(3);
  expect((await ControllerLease.current(db.client, prefix, t))?.controllerId).toBe(3);
  expect(c2fenced).toHaveLength(1);
  expect(c2fenced[0]).toMatchObject({ reason: 'expired', epoch: 2 });

  // Controller and broker leases live side by side without interfering.
  const broker = new BrokerLease(db.client, prefix, {
    brokerId: 1,
    endpoint: { host: 'b1', port: 9091 },
    now,
  });
  await broker.acquire();
  expect(broker.epoch).toBe(1);
  expect((await ControllerLease.current(db.client, prefix, t))?.controllerEpoch).toBe(3);
  expect(await ControllerLease.current(db.client, prefix, t + 10_000)).toBeUndefined();
});
