import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SpoolStack, type SpoolStackProps } from '../../cdk/lib/spool-stack.js';

/** Synthesizing bundles the retention Lambda with esbuild and stages the image context. */
export const SYNTH_TIMEOUT_MS = 120_000;

const outdirs: string[] = [];

/** An App synthesizing into its own temporary directory, removed by removeOutdirs. */
export function newApp(): App {
  const outdir = mkdtempSync(join(tmpdir(), 'spool-cdk-test-'));
  outdirs.push(outdir);
  return new App({ outdir });
}

/** Removes every assembly (bundled Lambda, staged image context) this test file synthesized. */
export function removeOutdirs(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function buildStack(props: SpoolStackProps = {}): { app: App; stack: SpoolStack } {
  const app = newApp();
  const stack = new SpoolStack(app, 'SpoolTest', props);
  return { app, stack };
}

export function synthTemplate(props: SpoolStackProps = {}): Template {
  return Template.fromStack(buildStack(props).stack);
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** Logical id of the resource of `type` whose properties include `match` (exactly one). */
export function logicalId(template: Template, type: string, match: Record<string, unknown>): string {
  const found = Object.keys(template.findResources(type, { Properties: match }));
  if (found.length !== 1)
    throw new Error(`expected one ${type} matching ${JSON.stringify(match)}, got ${found.length}`);
  return found[0]!;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of every AWS::IAM::Policy attached to a role whose logical id matches `role`. */
export function statementsOfRole(template: Template, role: RegExp): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy') as Resources;
  const statements: Statement[] = [];
  for (const policy of Object.values(policies)) {
    const props = policy.Properties as {
      Roles: { Ref: string }[];
      PolicyDocument: { Statement: Statement[] };
    };
    if (props.Roles.some((r) => role.test(r.Ref))) statements.push(...props.PolicyDocument.Statement);
  }
  return statements;
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** The logical ids a resource entry refers to (Fn::GetAtt / Ref, also inside Fn::Join). */
export function referencedIds(resource: unknown): string[] {
  const json = JSON.stringify(resource);
  const ids = new Set<string>();
  for (const m of json.matchAll(/"Fn::GetAtt":\["([^"]+)"/g)) ids.add(m[1]!);
  for (const m of json.matchAll(/"Ref":"([^"]+)"/g)) if (!m[1]!.startsWith('AWS::')) ids.add(m[1]!);
  return [...ids];
}
