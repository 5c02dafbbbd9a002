import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  LogQueryWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME } from '../../lambdas/settings/observability';
import type { Functions } from './functions';
import { pascalCase } from './naming';
import type { WorkQueues } from './work-queues';

export interface ObservabilityProps {
  readonly functions: Functions;
  readonly queues: WorkQueues;
  readonly api: HttpApi;
  /** Who is told when an alarm fires; without it, subscribe to the alarm topic yourself. */
  readonly alarmEmail?: string;
  /** How old the oldest waiting message of a work queue may get before someone should look. */
  readonly queueAgeAlarmThreshold: Duration;
}

const period = Duration.minutes(5);

/**
 * Alarms on what means lost or stuck work (anything in a DLQ, a queue falling behind, a function
 * failing, the API answering 5xx), sent to one encrypted topic, and one dashboard to look at.
 */
export class Observability extends Construct {
  readonly alarmTopic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);

    const alarmTopicKey = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts Herald alarm notifications',
      enableKeyRotation: true,
    });
    // CloudWatch publishes to an encrypted topic only if the key lets it encrypt.
    alarmTopicKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Herald alarms',
      masterKey: alarmTopicKey,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    for (const { name, queue, deadLetterQueue, slowLane } of props.queues.byName.values()) {
      const baseId = pascalCase(name);
      this.alarm(`${baseId}DeadLetterQueueAlarm`, {
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        threshold: 0,
        description: `Messages of the ${name} queue were dead-lettered: inspect them and redrive`,
      });
      this.alarm(`${baseId}QueueAgeAlarm`, {
        metric: queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
        threshold: props.queueAgeAlarmThreshold.toSeconds(),
        description: `The ${name} queue is falling behind: its oldest message waits longer than ${props.queueAgeAlarmThreshold.toHumanString()}`,
      });
      // The slow lane's few consumers are meant to fall behind the main queue, never to stall.
      if (slowLane) {
        this.alarm(`${baseId}SlowLaneAgeAlarm`, {
          metric: slowLane.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
          threshold: props.queueAgeAlarmThreshold.toSeconds(),
          description: `The ${name} queue's slow lane is falling behind: its oldest message waits longer than ${props.queueAgeAlarmThreshold.toHumanString()}`,
        });
      }
    }
    for (const [name, fn] of props.functions.byName) {
      this.alarm(`${pascalCase(name)}FunctionErrorsAlarm`, {
        metric: fn.metricErrors({ period, statistic: 'Sum' }),
        threshold: 0,
        description: `The ${name} function is failing`,
      });
    }
    this.alarm('ApiServerErrorsAlarm', {
      metric: props.api.metricServerError({ period, statistic: 'Sum' }),
      threshold: 0,
      description: 'The API answers 5xx',
    });

    this.dashboard = this.renderDashboard(props);
  }

  private alarm(id: string, options: { metric: IMetric; threshold: number; description: string }): void {
    const alarm = new Alarm(this, id, {
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data means nothing happened: an idle queue or function is healthy.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    const action = new SnsAction(this.alarmTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
  }

  private renderDashboard(props: ObservabilityProps): Dashboard {
    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const functions = [...props.functions.byName];
    const queues = [...props.queues.byName.values()];
    const width = 12;
    const height = 6;

    dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${SERVICE_NAME}\nRequests in, work done, work stuck. Anything in a DLQ needs an operator: inspect, then redrive.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests and errors',
        left: [props.api.metricCount({ period, statistic: 'Sum', label: 'requests' })],
        right: [
          props.api.metricClientError({ period, statistic: 'Sum', label: '4xx' }),
          props.api.metricServerError({ period, statistic: 'Sum', label: '5xx' }),
        ],
        width,
        height,
      }),
      new GraphWidget({
        title: 'API latency',
        left: [
          props.api.metricLatency({ period, statistic: 'p50', label: 'p50' }),
          props.api.metricLatency({ period, statistic: 'p99', label: 'p99' }),
        ],
        width,
        height,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Function invocations',
        left: functions.map(([name, fn]) => fn.metricInvocations({ period, statistic: 'Sum', label: name })),
        width,
        height,
      }),
      new GraphWidget({
        title: 'Function errors and throttles',
        left: functions.map(([name, fn]) => fn.metricErrors({ period, statistic: 'Sum', label: `${name} errors` })),
        right: functions.map(([name, fn]) => fn.metricThrottles({ period, statistic: 'Sum', label: `${name} throttles` })),
        width,
        height,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Queue throughput',
        left: queues.map(({ name, queue }) =>
          queue.metricNumberOfMessagesSent({ period, statistic: 'Sum', label: `${name} sent` }),
        ),
        right: queues.map(({ name, queue }) =>
          queue.metricNumberOfMessagesDeleted({ period, statistic: 'Sum', label: `${name} done` }),
        ),
        width,
        height,
      }),
      new GraphWidget({
        title: 'Queue backlog age (s)',
        left: queues.map(({ name, queue }) =>
          queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum', label: name }),
        ),
        width,
        height,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Dead-letter queue depth',
        left: queues.map(({ name, deadLetterQueue }) =>
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: `${name} DLQ` }),
        ),
        width,
        height,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width, height }),
    );
    const count = (metricName: string, label: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: SERVICE_NAME }, statistic: 'Sum', period, label });
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Requests',
        left: [
          count(METRICS.requestsAccepted, 'accepted'),
          count(METRICS.requestsSucceeded, 'succeeded'),
          count(METRICS.requestsFailed, 'failed'),
        ],
        // Attempts above finished requests are retries.
        right: [count(METRICS.processingAttempts, 'processing attempts')],
        width,
        height,
      }),
      new GraphWidget({
        title: 'Webhook deliveries',
        left: [count(METRICS.deliveriesSucceeded, 'succeeded'), count(METRICS.deliveriesFailed, 'failed attempts')],
        right: [count(METRICS.deliveriesDead, 'dead')],
        width,
        height,
      }),
    );
    dashboard.addWidgets(
      // A search rather than named metrics: whatever the handlers emit through Powertools shows up.
      new GraphWidget({
        title: 'Service metrics (Powertools)',
        left: [
          new MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},service} service="${SERVICE_NAME}"', 'Sum', ${period.toSeconds()})`,
            label: '',
            period,
          }),
        ],
        width,
        height,
      }),
      new LogQueryWidget({
        title: 'Recent errors',
        logGroupNames: functions.map(([, fn]) => fn.logGroup.logGroupName),
        queryLines: [
          'fields @timestamp, @log, level, message, error.message',
          'filter level = "ERROR" or @message like /Task timed out/',
          'sort @timestamp desc',
          'limit 50',
        ],
        width,
        height,
      }),
    );
    return dashboard;
  }
}
