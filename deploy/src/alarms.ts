import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface AlarmsProps {
  readonly deadLetterQueue: sqs.IQueue;
  readonly targetGroups: readonly { readonly name: string; readonly targetGroup: elbv2.NetworkTargetGroup }[];
  /** Notified on alarm and on recovery, when given. */
  readonly alarmTopicArn: string | undefined;
}

/**
 * The two things an operator must hear about: change events that failed every retry (mail that
 * was never sent), and service tasks the load balancer considers unhealthy.
 */
export class Alarms extends Construct {
  readonly deadLetters: cloudwatch.Alarm;
  readonly unhealthyTargets: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.deadLetters = new cloudwatch.Alarm(this, 'DeadLetters', {
      alarmDescription: 'Change events reached the dead-letter queue: notification mail was not sent',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.unhealthyTargets = props.targetGroups.map(
      ({ name, targetGroup }) =>
        new cloudwatch.Alarm(this, `${name}UnhealthyTargets`, {
          alarmDescription: `NLB reports unhealthy ${name} tasks`,
          metric: targetGroup.metrics.unHealthyHostCount({
            period: Duration.minutes(1),
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          threshold: 1,
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );

    if (props.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
      for (const alarm of [this.deadLetters, ...this.unhealthyTargets]) {
        alarm.addAlarmAction(new actions.SnsAction(topic));
        alarm.addOkAction(new actions.SnsAction(topic));
      }
    }
  }
}
