/**
 * At-least-once consumption: every record is processed, some may be processed twice.
 *
 * Offsets are committed only after a record's handler has finished (on a timer, when partitions
 * are revoked, and on close), so a consumer that crashes mid-record leaves that record and any
 * processed-but-not-yet-committed ones to be delivered again. Make the handler idempotent (here:
 * a ledger keyed by payment id) and nothing is lost or double-counted.
 *
 * Run against `npm start`:  npx tsx examples/at-least-once.ts [topic]
 */
import { Admin, Consumer, Producer, string } from '../client/index.js';

const bootstrap = (process.env.SPOOL_BOOTSTRAP ?? '127.0.0.1:9092').split(',');
const topic = process.argv[2] ?? 'payments';
const COUNT = 10;

const admin = new Admin({ bootstrap });
await admin.createTopics([{ topic, partitions: 3 }]).catch(() => {}); // already there is fine
admin.close();

const producer = new Producer<string, string>({ bootstrap });
for (let i = 0; i < COUNT; i++) await producer.send(topic, { key: `payment-${i}`, value: `${i * 10} EUR` });
await producer.close();

const ledger = new Map<string, string>(); // idempotent: a re-delivered payment overwrites itself
const consumer = new Consumer<string, string>({
  bootstrap,
  groupId: `${topic}-ledger`,
  deliveryMode: 'atLeastOnce',
  startFrom: 'earliest',
  keyDeserializer: string,
  valueDeserializer: string,
});
consumer.subscribe(topic);

let finished!: () => void;
const allSeen = new Promise<void>((resolve) => {
  finished = resolve;
});
const running = consumer.run({
  eachMessage: async ({ key, value, partition, offset }) => {
    ledger.set(key!, value!);
    console.log(`applied ${key} = ${value} (partition ${partition}, offset ${offset})`);
    if (ledger.size >= COUNT) finished();
  },
});
await allSeen;
await consumer.close(); // commits what was processed, then leaves the group
await running;
console.log(`ledger has ${ledger.size} payments`);
