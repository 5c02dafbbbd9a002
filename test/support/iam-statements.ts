import { Stack } from 'aws-cdk-lib';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { HeraldStack } from '../../lib/herald-stack';
import type { FunctionName } from '../../lib/topology';

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

/** Every statement of the policies attached to a function's role, read from the synthesized template. */
export function statementsOf(stack: HeraldStack, resources: Resources, name: FunctionName): Statement[] {
  const roleId = Stack.of(stack).getLogicalId(stack.functions.get(name).role!.node.defaultChild as CfnRole);
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
}
