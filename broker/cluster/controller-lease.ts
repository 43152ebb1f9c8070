import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  type BrokerEndpoint,
  Lease,
  LeaseHeldError,
  type LeaseHolder,
  type LeaseTimingOptions,
} from './broker-lease.js';
import { tableName } from './tables.js';

/**
 * The controller role, as a lease on pk "controller" with the same mechanics and self-fencing as
 * broker registrations (see broker-lease.ts). The lease epoch is the controller epoch: it grows by
 * one every time a different incarnation becomes controller, so brokers can ignore requests from a
 * deposed controller by comparing epochs.
 */

export const CONTROLLER_KEY = 'controller';

export interface ControllerRecord extends LeaseHolder {
  controllerId: number;
  endpoint: BrokerEndpoint;
  controllerEpoch: number;
}

/** Another live incarnation is controller. */
export class ControllerHeldError extends LeaseHeldError {
  override name = 'ControllerHeldError';
  readonly controllerId: number;
  constructor(holder: LeaseHolder & Record<string, unknown>) {
    super(CONTROLLER_KEY, holder);
    this.controllerId = holder.controllerId as number;
  }
}

export interface ControllerLeaseOptions extends LeaseTimingOptions {
  /** Broker id of the candidate. */
  brokerId: number;
  endpoint: BrokerEndpoint;
}

export class ControllerLease extends Lease {
  readonly brokerId: number;

  constructor(client: DynamoDBDocumentClient, tablePrefix: string, options: ControllerLeaseOptions) {
    super(
      client,
      tablePrefix,
      CONTROLLER_KEY,
      () => ({ controllerId: options.brokerId, endpoint: options.endpoint }),
      options,
      (holder) => new ControllerHeldError(holder),
    );
    this.brokerId = options.brokerId;
  }

  /** Epoch of our term as controller; only meaningful while isValid(). */
  get controllerEpoch(): number {
    return this.epoch;
  }

  /** The current controller if its lease has not expired at `now`. */
  static async current(
    client: DynamoDBDocumentClient,
    tablePrefix: string,
    now: number = Date.now(),
  ): Promise<ControllerRecord | undefined> {
    const { Item } = await client.send(
      new GetCommand({
        TableName: tableName(tablePrefix, 'cluster'),
        Key: { pk: CONTROLLER_KEY, sk: 'lease' },
        ConsistentRead: true,
      }),
    );
    if (!Item || !((Item.expiresAt as number) > now)) return undefined;
    return {
      incarnation: Item.incarnation as string,
      epoch: Item.epoch as number,
      expiresAt: Item.expiresAt as number,
      renewedAt: Item.renewedAt as number,
      controllerId: Item.controllerId as number,
      endpoint: Item.endpoint as BrokerEndpoint,
      controllerEpoch: Item.epoch as number,
    };
  }
}
