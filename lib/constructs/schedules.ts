import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { schedules } from '../topology';
import type { Functions } from './functions';
import { pascalCase } from './naming';

export interface SchedulesProps {
  readonly functions: Functions;
}

/**
 * One EventBridge rule per entry of `schedules`, invoking its function at the topology's rate
 * (the local runtime runs the same entries on timers).
 */
export class Schedules extends Construct {
  readonly byName: ReadonlyMap<string, Rule>;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const byName = new Map<string, Rule>();
    for (const [name, spec] of Object.entries(schedules)) {
      const rule = new Rule(this, `${pascalCase(name)}Rule`, {
        description: `Herald ${name}: runs ${spec.function} every ${spec.everyMinutes} min`,
        schedule: Schedule.rate(Duration.minutes(spec.everyMinutes)),
      });
      // The next run comes within minutes and does the same work, so a failed invocation is
      // not worth retrying for long; a run that misses its period is dropped, not stacked.
      rule.addTarget(
        new LambdaFunction(props.functions.get(spec.function), {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(Math.max(spec.everyMinutes, 1)),
        }),
      );
      byName.set(name, rule);
    }
    this.byName = byName;
  }
}
