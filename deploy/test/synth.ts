import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../src/app';
import type { FilesyncStack } from '../src/filesync-stack';
import type { PrerequisitesStack } from '../src/prerequisites-stack';

/** The feature flags and defaults of deploy/cdk.json, so tests synthesize what `cdk synth` does. */
const cdkJsonContext = (
  JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

export interface Synthesized {
  readonly app: App;
  readonly prerequisites: PrerequisitesStack;
  readonly main: FilesyncStack;
  readonly template: Template;
  readonly prerequisitesTemplate: Template;
}

/** Builds the real app (same wiring as bin/app.ts) with extra context values. */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const app = new App({ context: { ...cdkJsonContext, ...context } });
  const { prerequisites, main } = buildApp(app);
  return {
    app,
    prerequisites,
    main,
    template: Template.fromStack(main),
    prerequisitesTemplate: Template.fromStack(prerequisites),
  };
}

/** Logical id of a construct's CloudFormation resource. */
export function logicalId(
  stack: FilesyncStack | PrerequisitesStack,
  construct: { node: { defaultChild?: unknown } },
) {
  const child = construct.node.defaultChild;
  if (!child) throw new Error('no default child');
  return stack.getLogicalId(child as never);
}

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

export interface NormalizedStatement {
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: unknown[];
  readonly Condition?: unknown;
}

/** IAM statements with Action/Resource always as (sorted) arrays, for exact comparisons. */
export function normalizeStatements(statements: readonly any[]): NormalizedStatement[] {
  return statements.map((statement) => ({
    Effect: statement.Effect,
    Action: [statement.Action].flat().sort(),
    Resource: [statement.Resource].flat(),
    ...(statement.Condition ? { Condition: statement.Condition } : {}),
  }));
}

/** Statements of every AWS::IAM::Policy attached to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): NormalizedStatement[] {
  const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId),
  );
  return normalizeStatements(policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement));
}
