import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SpoolStack } from '../lib/spool-stack.js';

/**
 * The CDK app (`npm run synth`, `npx cdk deploy`). Parameters come from context (`-c key=value`
 * or cdk.json): prefix, brokerCount, natGateways, internetFacing, archiveAccessLogs,
 * volumeSizeGiB, volumeThroughputMiBps, brokerCpu, brokerMemoryMiB, metricsNamespace,
 * availabilityZones (comma-separated), stackName.
 * The stack is environment-agnostic: synth needs no credentials, account or network.
 */
const app = new App();

function context(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

function numberContext(key: string): number | undefined {
  const value = context(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`context ${key} must be a whole number, got "${value}"`);
  return n;
}

const prefix = context('prefix') ?? 'spool';
const brokerCount = numberContext('brokerCount');
const natGateways = numberContext('natGateways');
const volumeSizeGiB = numberContext('volumeSizeGiB');
const volumeThroughputMiBps = numberContext('volumeThroughputMiBps');
const brokerCpu = numberContext('brokerCpu');
const brokerMemoryMiB = numberContext('brokerMemoryMiB');
const metricsNamespace = context('metricsNamespace');
const availabilityZones = context('availabilityZones')
  ?.split(',')
  .map((az) => az.trim());

new SpoolStack(app, context('stackName') ?? `Spool-${prefix}`, {
  description: 'Spool: Kafka-compatible streaming on AWS (brokers, tables, archive, retention)',
  prefix,
  internetFacing: context('internetFacing') === 'true',
  archiveAccessLogs: context('archiveAccessLogs') === 'true',
  ...(brokerCount !== undefined ? { brokerCount } : {}),
  ...(natGateways !== undefined ? { natGateways } : {}),
  ...(volumeSizeGiB !== undefined ? { volumeSizeGiB } : {}),
  ...(volumeThroughputMiBps !== undefined ? { volumeThroughputMiBps } : {}),
  ...(brokerCpu !== undefined ? { brokerCpu } : {}),
  ...(brokerMemoryMiB !== undefined ? { brokerMemoryMiB } : {}),
  ...(metricsNamespace ? { metricsNamespace } : {}),
  ...(availabilityZones ? { availabilityZones } : {}),
});

// cdk-nag's AWS Solutions rules: an unsuppressed finding is an error and fails synth.
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
