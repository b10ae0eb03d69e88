import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readDeployConfig } from './config';
import { FilesyncStack } from './filesync-stack';
import { acknowledgeNagFindings } from './nag';
import { PrerequisitesStack } from './prerequisites-stack';

export const PREREQUISITES_STACK = 'FilesyncPrerequisites';
export const MAIN_STACK = 'Filesync';

/**
 * Both stacks of the app, environment-agnostic (account and region come from the credentials at
 * deploy time), so `cdk synth` needs no AWS access and no lookups.
 */
export function buildApp(app: App): { prerequisites: PrerequisitesStack; main: FilesyncStack } {
  const config = readDeployConfig((key) => app.node.tryGetContext(key));
  const prerequisites = new PrerequisitesStack(app, PREREQUISITES_STACK, {
    description: 'filesync: image repositories and the auth signing key',
  });
  const main = new FilesyncStack(app, MAIN_STACK, {
    description: 'filesync: four gRPC services on ECS (EC2) behind an NLB, DynamoDB, S3, SQS, SES',
    config,
    repositories: prerequisites.repositories,
    signingKey: prerequisites.signingKey,
  });
  acknowledgeNagFindings(prerequisites, main);
  // cdk-nag v3 runs as a policy-validation plugin: `cdk synth` fails on any unacknowledged finding.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { prerequisites, main };
}
