import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synthesize } from './synth';

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['default context', {}],
    [
      'TLS listeners and an alarm topic',
      {
        'filesync:certificateArn': 'arn:aws:acm:us-east-1:1:certificate/x',
        'filesync:alarmTopicArn': 'arn:aws:sns:us-east-1:1:ops',
      },
    ],
  ])('reports no unacknowledged finding (%s)', (_label, context) => {
    const { app } = synthesize(context);
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);
    expect(
      report.violations.map(
        (violation) =>
          `${violation.ruleName} ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('gives every acknowledgement a reason', () => {
    const { app } = synthesize();
    const acknowledgements = app.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      // CDK acknowledges some template-lint findings of its own; ours are the AwsSolutions ones.
      .filter(([id]) => id.includes('AwsSolutions-'));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      // Named in the expectation so a failure says which acknowledgement lacks a reason.
      expect({ id, explained: reason.trim().length > 20 }).toEqual({ id, explained: true });
    }
  });

  it('catches a finding nobody acknowledged', () => {
    const { app, main } = synthesize();
    // An unencrypted, unlogged bucket added after the fact must be caught.
    new s3.Bucket(main, 'Unreviewed');
    const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(app);
    expect(report.violations.map((violation) => violation.ruleName)).toContain('AwsSolutions-S1');
  });
});
