import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type Logger, silentLogger } from '../common/logger.js';
import { tableName } from './tables.js';

/**
 * Leases in DynamoDB: a broker's registration (pk "broker#<id>") and, in controller-lease.ts, the
 * controller role (pk "controller"). Both share the mechanics implemented by `Lease` below.
 *
 * ## Timing and self-fencing
 *
 * A holder writes `expiresAt = sendTime + leaseMs`, where `sendTime` is the holder's local clock
 * read just BEFORE the write request is sent (never the time the response arrived: a slow request
 * must not extend the lease). The holder considers itself valid only until
 *
 *     validUntil = sendTime + leaseMs - clockSkewMarginMs          (holder's clock)
 *
 * and a newcomer may take the key over only once, by ITS clock,
 *
 *     now > expiresAt + clockSkewMarginMs = sendTime + leaseMs + clockSkewMarginMs.
 *
 * Let the taker's clock read `d` ms ahead of the holder's (d may be negative). In holder time the
 * taker can act at the earliest after `sendTime + leaseMs + margin - d`, while the holder stopped at
 * `sendTime + leaseMs - margin`. So the holder stops strictly before anyone else can take over as
 * long as `d < 2 * margin`; we promise it for `|d| < margin`, leaving another margin of slack for
 * timer lateness and the time between reading the clock and acting on `isValid()`. This holds even
 * when DynamoDB is unreachable: the holder needs no answer to stop acting, it just watches its
 * own clock. It relies only on clocks not drifting apart by a margin within one lease period and
 * on rates being roughly equal, not on synchronised absolute time.
 *
 * Defaults: leaseMs 3000, renewIntervalMs 500 (four renewals in a row may fail before the holder
 * fences itself), clockSkewMarginMs 500 (an NTP-synchronised host is typically within a few ms; half a
 * second tolerates a badly synchronised one and timer lateness). A crashed holder's key can be
 * taken over at most leaseMs + margin = 3.5 s after its last renewal, which bounds failover
 * detection; the controller adds one reconcile interval on top. A process paused (GC, SIGSTOP) for
 * longer than leaseMs - margin = 2.5 s fences itself when it resumes.
 *
 * ## Epochs
 *
 * `epoch` grows by one every time a new incarnation takes the key over, so it can serve as a
 * fencing token. To keep it monotonic, `release()` does not delete the item: it leaves a tombstone
 * (expiresAt = 0, incarnation unchanged) that the next incarnation takes over immediately.
 */

export const DEFAULT_LEASE_MS = 3000;
export const DEFAULT_RENEW_INTERVAL_MS = 500;
export const DEFAULT_CLOCK_SKEW_MARGIN_MS = 500;

const SORT_KEY = 'lease';
const BROKER_PREFIX = 'broker#';

export interface BrokerEndpoint {
  host: string;
  port: number;
}

/** Who holds (or last held) a lease, as stored in DynamoDB. */
export interface LeaseHolder {
  incarnation: string;
  epoch: number;
  /** Holder's clock at write time + leaseMs. 0 once released. */
  expiresAt: number;
  renewedAt: number;
}

export interface BrokerLeaseRecord extends LeaseHolder {
  brokerId: number;
  endpoint: BrokerEndpoint;
  rack: string | null;
  /** Holder-clock time this incarnation first acquired the lease. */
  acquiredAt: number;
  /**
   * The broker started without its storage marker (storage/storage-marker.ts): its ISR memberships
   * may predate the data it has, so it must not be elected from them, nor re-enter an ISR, until it
   * clears this flag (cluster/storage-rejoin.ts).
   */
  rejoining: boolean;
}

/** The key is held by a live lease of another incarnation. */
export class LeaseHeldError extends Error {
  override name = 'LeaseHeldError';
  constructor(
    readonly key: string,
    readonly holder: LeaseHolder & Record<string, unknown>,
  ) {
    super(
      `${key} is held by incarnation ${holder.incarnation} (epoch ${holder.epoch}) until ${new Date(holder.expiresAt).toISOString()}`,
    );
  }
}

/** Another live process is registered as this broker id. */
export class BrokerIdInUseError extends LeaseHeldError {
  override name = 'BrokerIdInUseError';
  constructor(
    readonly brokerId: number,
    holder: LeaseHolder & Record<string, unknown>,
  ) {
    super(brokerKey(brokerId), holder);
  }
}

export type LeaseLostReason =
  /** Another incarnation's write replaced ours (our conditional renew failed). */
  | 'taken-over'
  /** Local time passed validUntil without a successful renewal. */
  | 'expired'
  /** We released the lease ourselves. */
  | 'released';

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(
    readonly key: string,
    readonly incarnation: string,
    readonly epoch: number,
    readonly reason: LeaseLostReason,
    /** The item found in DynamoDB after a failed renew, if any. */
    readonly currentHolder?: LeaseHolder,
  ) {
    super(`lease ${key} (incarnation ${incarnation}, epoch ${epoch}) lost: ${reason}`);
  }
}

export interface LeaseTimingOptions {
  /** Nominal lease length. Default 3000. */
  leaseMs?: number;
  /** Background renewal period. Default leaseMs / 6. */
  renewIntervalMs?: number;
  /** Tolerated clock difference between hosts. Default 500. Must be < leaseMs / 2. */
  clockSkewMarginMs?: number;
  /** Local clock in ms; injectable so tests can simulate skew and slow requests. Default Date.now. */
  now?: () => number;
  /** Fired once when validity is lost (takeover detected, or validUntil passed). Not fired on release. */
  onFenced?: (error: LeaseLostError) => void;
  /** Fired after every successful acquire or renewal. */
  onRenewed?: (state: { epoch: number; expiresAt: number; validUntil: number }) => void;
  logger?: Logger;
  /** Defaults to a random id; one per process start. */
  incarnation?: string;
  /**
   * A fenced lease of this same process that this one replaces. Its holder is known to have stopped
   * acting (it fenced itself), so the key is taken over at once instead of after expiry + margin.
   */
  succeeds?: { incarnation: string; epoch: number };
}

export interface AcquireOptions {
  /** Keep retrying while the key is held by a live lease, for up to this long (local clock). Default 0. */
  waitMs?: number;
  /** Pause between retries. Default 100 ms. */
  retryIntervalMs?: number;
}

type State = 'idle' | 'held' | 'fenced' | 'released';

export function newIncarnation(): string {
  return randomBytes(12).toString('base64url');
}

/** The shared lease mechanics. `payload` is written alongside the lease fields. */
export class Lease {
  readonly incarnation: string;
  readonly leaseMs: number;
  readonly renewIntervalMs: number;
  readonly clockSkewMarginMs: number;
  protected readonly table: string;
  protected readonly now: () => number;
  protected readonly logger: Logger;
  private state: State = 'idle';
  private epochValue = 0;
  private expiresAtValue = 0;
  private validUntilValue = 0;
  private lost: LeaseLostError | undefined;
  private renewing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    protected readonly client: DynamoDBDocumentClient,
    tablePrefix: string,
    readonly key: string,
    private readonly payload: () => Record<string, unknown>,
    private readonly options: LeaseTimingOptions,
    private readonly heldError: (holder: LeaseHolder & Record<string, unknown>) => LeaseHeldError = (
      holder,
    ) => new LeaseHeldError(key, holder),
  ) {
    this.table = tableName(tablePrefix, 'cluster');
    this.incarnation = options.incarnation ?? newIncarnation();
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.renewIntervalMs =
      options.renewIntervalMs ?? Math.floor((this.leaseMs * DEFAULT_RENEW_INTERVAL_MS) / DEFAULT_LEASE_MS);
    this.clockSkewMarginMs = options.clockSkewMarginMs ?? DEFAULT_CLOCK_SKEW_MARGIN_MS;
    this.now = options.now ?? Date.now;
    this.logger = (options.logger ?? silentLogger()).child({ lease: key, incarnation: this.incarnation });
    if (!(this.clockSkewMarginMs >= 0 && 2 * this.clockSkewMarginMs < this.leaseMs)) {
      throw new RangeError('clockSkewMarginMs must be >= 0 and less than leaseMs / 2');
    }
    if (!(this.renewIntervalMs > 0 && this.renewIntervalMs < this.leaseMs - this.clockSkewMarginMs)) {
      throw new RangeError('renewIntervalMs must be > 0 and less than leaseMs - clockSkewMarginMs');
    }
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** Holder-clock expiry last written to DynamoDB. */
  get expiresAt(): number {
    return this.expiresAtValue;
  }

  /** Local time after which this holder must not act: last successful send time + leaseMs - margin. */
  get validUntil(): number {
    return this.validUntilValue;
  }

  /**
   * Whether the holder may act now. Turns false (for good) once local time reaches validUntil,
   * whether or not DynamoDB could be reached; firing onFenced the first time that is noticed.
   */
  isValid(): boolean {
    if (this.state !== 'held') return false;
    if (this.now() < this.validUntilValue) return true;
    this.fence('expired');
    return false;
  }

  /**
   * Takes the key if it is free, expired by more than the skew margin, released, or already ours.
   * A takeover bumps the epoch. Throws LeaseHeldError (BrokerIdInUseError for a broker lease) if
   * another incarnation holds it live (after retrying for `waitMs`).
   */
  async acquire(options: AcquireOptions = {}): Promise<void> {
    const deadline = this.now() + (options.waitMs ?? 0);
    for (;;) {
      try {
        await this.tryAcquire();
        return;
      } catch (error) {
        if (!(error instanceof LeaseHeldError) || this.now() >= deadline) throw error;
        this.logger.debug({ holder: error.holder.incarnation }, 'lease held elsewhere; waiting');
        await sleep(options.retryIntervalMs ?? 100);
      }
    }
  }

  private async tryAcquire(): Promise<void> {
    if (this.state === 'fenced' || this.state === 'released') throw this.lost!;
    for (;;) {
      const existing = await this.read();
      const sendTime = this.now();
      const predecessor = this.options.succeeds;
      const succeeding =
        existing !== undefined &&
        predecessor !== undefined &&
        existing.incarnation === predecessor.incarnation &&
        existing.epoch === predecessor.epoch;
      if (existing && existing.incarnation !== this.incarnation && !succeeding) {
        if (!(existing.expiresAt < sendTime - this.clockSkewMarginMs)) {
          throw this.heldError(existing);
        }
      }
      const epoch = existing
        ? existing.incarnation === this.incarnation
          ? existing.epoch
          : existing.epoch + 1
        : 1;
      const expiresAt = sendTime + this.leaseMs;
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...this.payload(),
              pk: this.key,
              sk: SORT_KEY,
              incarnation: this.incarnation,
              epoch,
              expiresAt,
              renewedAt: sendTime,
              acquiredAt: sendTime,
            },
            // Compare-and-swap on the version we read: nobody renewed or took over in between.
            ...(existing
              ? {
                  ConditionExpression:
                    'epoch = :prevEpoch AND incarnation = :prevIncarnation AND ' +
                    '(expiresAt < :stale OR incarnation = :mine OR incarnation = :predecessor)',
                  ExpressionAttributeValues: {
                    ':prevEpoch': existing.epoch,
                    ':prevIncarnation': existing.incarnation,
                    ':stale': sendTime - this.clockSkewMarginMs,
                    ':mine': this.incarnation,
                    ':predecessor': succeeding ? existing.incarnation : this.incarnation,
                  },
                }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        );
      } catch (error) {
        // Someone else wrote between our read and our put: re-read and decide again.
        if (error instanceof ConditionalCheckFailedException) continue;
        throw error;
      }
      this.state = 'held';
      this.epochValue = epoch;
      this.recordSuccess(sendTime, expiresAt);
      this.logger.info({ epoch, takeover: existing?.incarnation !== this.incarnation }, 'lease acquired');
      return;
    }
  }

  /**
   * Extends the lease, conditional on it still being ours. If it is not, the lease was taken over:
   * fences permanently and throws LeaseLostError. Transient failures (DynamoDB unreachable) are
   * rethrown; once validUntil has passed they fence too. Concurrent calls share one request, so
   * renewals never overtake each other.
   */
  renew(): Promise<void> {
    this.renewing ??= this.doRenew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async doRenew(): Promise<void> {
    if (this.state === 'idle') throw new Error(`lease ${this.key} was never acquired`);
    if (this.state !== 'held' || !this.isValid()) throw this.lost!;
    const sendTime = this.now();
    const expiresAt = sendTime + this.leaseMs;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: this.key, sk: SORT_KEY },
          UpdateExpression: 'SET expiresAt = :expiresAt, renewedAt = :renewedAt',
          ConditionExpression: 'incarnation = :mine AND epoch = :epoch',
          ExpressionAttributeValues: {
            ':expiresAt': expiresAt,
            ':renewedAt': sendTime,
            ':mine': this.incarnation,
            ':epoch': this.epochValue,
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const holder = await this.read().catch(() => undefined);
        throw this.fence('taken-over', holder);
      }
      // Released or fenced while the request was in flight: report that instead.
      if (this.state !== 'held' || !this.isValid()) throw this.lost!;
      throw error;
    }
    if (this.state !== 'held') throw this.lost!;
    this.recordSuccess(sendTime, expiresAt);
  }

  /** Renews every renewIntervalMs until stop(), fencing, or release. */
  start(): void {
    if (this.running) return;
    if (this.state !== 'held') throw new Error(`lease ${this.key} is not held`);
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.running) return;
    // Wake up at the next renewal or at validUntil, whichever is first, so onFenced fires on time
    // even if a renewal request hangs.
    const untilInvalid = Math.max(0, this.validUntilValue - this.now());
    this.timer = setTimeout(() => this.tick(), Math.min(this.renewIntervalMs, untilInvalid));
  }

  private tick(): void {
    if (!this.running) return;
    if (!this.isValid()) {
      this.stop();
      return;
    }
    // Never wait on the request here: a hung renewal must not delay the validity check, and a
    // second request is not started while one is still in flight.
    if (!this.renewing) {
      this.renew().catch((error: unknown) => {
        if (error instanceof LeaseLostError) this.stop();
        else this.logger.warn({ err: error }, 'lease renewal failed; will retry');
      });
    }
    this.schedule();
  }

  /**
   * Graceful shutdown: stops renewing and marks the item expired (if it is still ours) so another
   * incarnation can take over at once. The item stays as a tombstone to keep the epoch monotonic.
   */
  async release(): Promise<void> {
    this.stop();
    if (this.state !== 'held') return;
    this.state = 'released';
    this.lost = new LeaseLostError(this.key, this.incarnation, this.epochValue, 'released');
    await this.renewing?.catch(() => undefined);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: this.key, sk: SORT_KEY },
          UpdateExpression: 'SET expiresAt = :zero, releasedAt = :now',
          ConditionExpression: 'incarnation = :mine AND epoch = :epoch',
          ExpressionAttributeValues: {
            ':zero': 0,
            ':now': this.now(),
            ':mine': this.incarnation,
            ':epoch': this.epochValue,
          },
        }),
      );
      this.logger.info({ epoch: this.epochValue }, 'lease released');
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Already taken over: nothing of ours to release.
    }
  }

  private recordSuccess(sendTime: number, expiresAt: number): void {
    this.expiresAtValue = expiresAt;
    this.validUntilValue = sendTime + this.leaseMs - this.clockSkewMarginMs;
    this.options.onRenewed?.({
      epoch: this.epochValue,
      expiresAt,
      validUntil: this.validUntilValue,
    });
  }

  private fence(reason: LeaseLostReason, holder?: LeaseHolder): LeaseLostError {
    if (this.state !== 'held') return this.lost!;
    this.state = 'fenced';
    this.stop();
    this.lost = new LeaseLostError(this.key, this.incarnation, this.epochValue, reason, holder);
    this.logger.error({ reason, holder: holder?.incarnation }, 'lease lost; fenced');
    this.options.onFenced?.(this.lost);
    return this.lost;
  }

  protected async read(): Promise<(LeaseHolder & Record<string, unknown>) | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: this.key, sk: SORT_KEY }, ConsistentRead: true }),
    );
    return Item ? { ...Item, ...toHolder(Item) } : undefined;
  }
}

export interface BrokerLeaseOptions extends LeaseTimingOptions {
  brokerId: number;
  endpoint: BrokerEndpoint;
  rack?: string | null;
  /** Register as rejoining: see BrokerLeaseRecord.rejoining. Default false. */
  rejoining?: boolean;
}

/** A broker's registration: holding it is what entitles a process to act as broker `brokerId`. */
export class BrokerLease extends Lease {
  readonly brokerId: number;

  constructor(client: DynamoDBDocumentClient, tablePrefix: string, options: BrokerLeaseOptions) {
    const rack = options.rack ?? null;
    const rejoining = options.rejoining ?? false;
    super(
      client,
      tablePrefix,
      brokerKey(options.brokerId),
      () => ({ brokerId: options.brokerId, endpoint: options.endpoint, rack, rejoining }),
      options,
      (holder) => new BrokerIdInUseError(options.brokerId, holder),
    );
    this.brokerId = options.brokerId;
  }

  /**
   * Clears this incarnation's rejoining flag. Conditional on still holding the registration, so a
   * successor's flag is never cleared by a stale process.
   */
  async markRejoined(): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: this.key, sk: SORT_KEY },
        UpdateExpression: 'SET rejoining = :false',
        ConditionExpression: 'incarnation = :mine AND epoch = :epoch',
        ExpressionAttributeValues: { ':false': false, ':mine': this.incarnation, ':epoch': this.epoch },
      }),
    );
  }

  /** Brokers whose lease has not expired (expiresAt > now), ordered by id. */
  static listLiveBrokers(
    client: DynamoDBDocumentClient,
    tablePrefix: string,
    now: number = Date.now(),
  ): Promise<BrokerLeaseRecord[]> {
    return listLiveBrokers(client, tablePrefix, now);
  }
}

export function brokerKey(brokerId: number): string {
  return `${BROKER_PREFIX}${brokerId}`;
}

export async function listLiveBrokers(
  client: DynamoDBDocumentClient,
  tablePrefix: string,
  now: number = Date.now(),
): Promise<BrokerLeaseRecord[]> {
  return (await listBrokerRegistrations(client, tablePrefix)).filter((broker) => broker.expiresAt > now);
}

/** Every broker registration, live, expired or released, ordered by id (the controller's view). */
export async function listBrokerRegistrations(
  client: DynamoDBDocumentClient,
  tablePrefix: string,
): Promise<BrokerLeaseRecord[]> {
  const brokers: BrokerLeaseRecord[] = [];
  for await (const page of paginateScan(
    { client },
    {
      TableName: tableName(tablePrefix, 'cluster'),
      ConsistentRead: true,
      FilterExpression: 'begins_with(pk, :prefix) AND sk = :sk',
      ExpressionAttributeValues: { ':prefix': BROKER_PREFIX, ':sk': SORT_KEY },
    },
  )) {
    for (const item of page.Items ?? []) {
      brokers.push({
        ...toHolder(item),
        brokerId: item.brokerId as number,
        endpoint: item.endpoint as BrokerEndpoint,
        rack: (item.rack as string | null | undefined) ?? null,
        acquiredAt: (item.acquiredAt as number | undefined) ?? 0,
        rejoining: item.rejoining === true,
      });
    }
  }
  return brokers.sort((a, b) => a.brokerId - b.brokerId);
}

function toHolder(item: Record<string, unknown>): LeaseHolder {
  return {
    incarnation: item.incarnation as string,
    epoch: item.epoch as number,
    expiresAt: item.expiresAt as number,
    renewedAt: item.renewedAt as number,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
