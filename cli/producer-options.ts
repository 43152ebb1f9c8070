import { type Command, Option } from 'commander';
import {
  type Acks,
  type Admin,
  type Compression,
  ErrorCode,
  KafkaProtocolError,
  type ProducerOptions,
} from '../client/index.js';
import { CliError, globalOptions, integer, parseBootstrap } from './common.js';

/** The producer settings `spool produce` and `spool bench produce` share. */
export interface ProducerFlags {
  acks: '0' | '1' | 'all';
  compression: Compression;
  lingerMs: number;
  batchSize: number;
}

const COMPRESSIONS: Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The SDK producer's defaults, passed explicitly so that results can name them. */
export const DEFAULT_LINGER_MS = 5;
export const DEFAULT_BATCH_SIZE = 16_384;

export function addProducerOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--acks <acks>',
        'wait for no acknowledgement (0), the leader (1) or the ISR (all; idempotent)',
      )
        .choices(['0', '1', 'all'])
        .default('all'),
    )
    .addOption(new Option('--compression <codec>', 'batch compression').choices(COMPRESSIONS).default('none'))
    .option('--linger-ms <ms>', 'how long a batch waits for more records', integer(0), DEFAULT_LINGER_MS)
    .option('--batch-size <bytes>', 'bytes per partition batch', integer(1), DEFAULT_BATCH_SIZE);
}

/** Producer options for the command's --bootstrap and the flags of `addProducerOptions`. */
export function producerOptions(
  command: Command,
  flags: ProducerFlags,
  clientId: string,
): ProducerOptions<Buffer, Buffer> {
  const acks: Acks = flags.acks === 'all' ? 'all' : flags.acks === '1' ? 1 : 0;
  return {
    bootstrap: parseBootstrap(globalOptions(command).bootstrap),
    clientId,
    acks,
    // The producer is idempotent only with acks=all; weaker acks turn idempotence off.
    idempotent: acks === 'all',
    compression: flags.compression,
    lingerMs: flags.lingerMs,
    batchSize: flags.batchSize,
  };
}

/**
 * The partition count of `topic`, failing fast (instead of the producer's wait for the topic to
 * appear) with a one-line error when it does not exist.
 */
export async function existingTopicPartitions(admin: Admin, topic: string): Promise<number> {
  try {
    const [description] = await admin.describeTopics([topic]);
    if (!description) throw new CliError(`topic ${topic} was not described`);
    return description.partitions.length;
  } catch (error) {
    if (error instanceof KafkaProtocolError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
      throw new CliError(
        `${error.errorName}: topic ${topic} does not exist (create it with: spool topic create ${topic})`,
        { cause: error },
      );
    throw error;
  }
}
