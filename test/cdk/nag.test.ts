import { Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { SynthesisMessage } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { SpoolStack, type SpoolStackProps } from '../../cdk/lib/spool-stack.js';
import { newApp, removeOutdirs, SYNTH_TIMEOUT_MS } from './synth.js';

afterAll(removeOutdirs);

interface Suppression {
  id: string;
  reason: string;
}

/** Synthesizes with the AWS Solutions pack applied, as cdk/bin/spool.ts does. */
function nagged(props: (keys: () => Stack) => SpoolStackProps = () => ({})): SpoolStack {
  const app = newApp();
  const stack = new SpoolStack(
    app,
    'SpoolNag',
    props(() => new Stack(app, 'Keys')),
  );
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  return stack;
}

function messages(annotations: SynthesisMessage[]): string[] {
  return annotations.map((a) => `${a.id}: ${String(a.entry.data)}`);
}

describe('cdk-nag AwsSolutions', () => {
  it(
    'finds no unsuppressed errors or warnings in the default stack',
    () => {
      const stack = nagged();
      const annotations = Annotations.fromStack(stack);
      expect(messages(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')))).toEqual([]);
      expect(messages(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')))).toEqual([]);
      // A rule that could not evaluate (an unresolved token) is a hole in the check, not a pass.
      expect(
        messages(annotations.findWarning('*', Match.stringLikeRegexp('CdkNagValidationFailure.*'))),
      ).toEqual([]);
      expect(
        messages(annotations.findError('*', Match.stringLikeRegexp('CdkNagValidationFailure.*'))),
      ).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'finds no unsuppressed errors with a KMS key, access logs and five brokers',
    () => {
      const stack = nagged((keys) => ({
        archiveKey: new kms.Key(keys(), 'ArchiveKey', { enableKeyRotation: true }),
        archiveAccessLogs: true,
        brokerCount: 5,
      }));
      const annotations = Annotations.fromStack(stack);
      expect(messages(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')))).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'gives every suppression a written reason',
    () => {
      const stack = nagged();
      // NagSuppressions writes them into each resource's CloudFormation metadata.
      const resources = Template.fromStack(stack).toJSON().Resources as Record<
        string,
        { Metadata?: { cdk_nag?: { rules_to_suppress?: Suppression[] } } }
      >;
      const suppressions = Object.values(resources).flatMap(
        (r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? [],
      );
      expect(suppressions.length).toBeGreaterThan(0);
      for (const s of suppressions) {
        expect(s.id).toMatch(/^AwsSolutions-/);
        // cdk-nag itself only demands 10 characters; a reason should say why, in a sentence.
        expect(s.reason.length, `${s.id}: "${s.reason}"`).toBeGreaterThanOrEqual(40);
      }
    },
    SYNTH_TIMEOUT_MS,
  );
});
