/**
 * At-most-once consumption: no record is processed twice, some may never be processed.
 *
 * A batch's offsets are committed before the batch is handed out, so a consumer that crashes
 * mid-batch never sees those records again, and neither does anyone else in the group. Use it
 * where a repeat is worse than a gap: sending a notification, say.
 *
 * Run against `npm start`:  npx tsx examples/at-most-once.ts [topic]
 */
import { Admin, Consumer, Producer, string } from '../client/index.js';

const bootstrap = (process.env.SPOOL_BOOTSTRAP ?? '127.0.0.1:9092').split(',');
const topic = process.argv[2] ?? 'notifications';
const COUNT = 10;

const admin = new Admin({ bootstrap });
await admin.createTopics([{ topic, partitions: 3 }]).catch(() => {}); // already there is fine
admin.close();

const producer = new Producer<string, string>({ bootstrap });
for (let i = 0; i < COUNT; i++) await producer.send(topic, { key: `user-${i}`, value: `welcome, user ${i}` });
await producer.close();

const consumer = new Consumer<string, string>({
  bootstrap,
  groupId: `${topic}-sender`,
  deliveryMode: 'atMostOnce',
  startFrom: 'earliest',
  keyDeserializer: string,
  valueDeserializer: string,
});
consumer.subscribe(topic);

let sent = 0;
// Batch iteration: each batch is already committed when the loop body receives it.
for await (const batch of consumer) {
  for (const { key, value } of batch.records) console.log(`notify ${key}: ${value}`);
  sent += batch.records.length;
  if (sent >= COUNT) break; // leaving the loop closes the consumer
}
console.log(`sent ${sent} notifications`);
