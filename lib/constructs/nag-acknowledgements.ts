import { Stack, Validations } from 'aws-cdk-lib';
import { Policy, Role } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource?: unknown;
}

/** The Sid of the statement a `sendsSms` grant writes: sns:Publish on `*`, for SMS to phone numbers. */
export const SMS_PUBLISH_SID = 'SendSmsToPhoneNumbers';

/**
 * Why a wildcard that a CDK grant writes is still least privilege. A finding no entry explains
 * is left for cdk-nag to report, so a new kind of grant gets a human decision, not a blanket pass.
 */
const wildcardReasons: readonly {
  readonly applies: (finding: string, statement: { actions: readonly string[]; sid?: string }) => boolean;
  readonly reason: string;
}[] = [
  {
    applies: (finding, { actions }) =>
      finding === 'Resource::*' && actions.every(action => action.startsWith('xray:')),
    reason:
      'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
  },
  {
    applies: (finding, { actions, sid }) =>
      finding === 'Resource::*' && sid === SMS_PUBLISH_SID && actions.every(action => action === 'sns:Publish'),
    reason:
      'SMS notifications: SNS Publish to a PhoneNumber has no topic or other resource to scope to, so IAM accepts only "*" for it; ' +
      'only functions whose topology grant says sendsSms get this statement, and spend is capped by the account-level MonthlySpendLimit (docs/operations.md).',
  },
  {
    applies: (finding, { actions }) =>
      /^Resource::<[A-Za-z0-9]+>:\*$/.test(finding) &&
      actions.every(action => ['sns:GetSubscriptionAttributes', 'sns:SetSubscriptionAttributes', 'sns:Unsubscribe'].includes(action)),
    reason:
      "Subscriptions of the notifications topic: their ARNs are the topic's ARN followed by an id SNS assigns, so only <topic ARN>:* names them, and no other topic's.",
  },
  {
    applies: finding => /^Resource::<[A-Za-z0-9]+\.Arn>\/index\/\*$/.test(finding),
    reason:
      "The table's own global secondary indexes (byMerchant, byStatus): queries name an index, and the grant stays within this one table.",
  },
  {
    applies: (finding, { actions }) =>
      /^Resource::<[A-Za-z0-9]+\.Arn>\/(payload|result)\/\*$/.test(finding) && actions.every(action => action === 's3:GetObject' || action === 's3:PutObject'),
    reason:
      "Request bodies in the bodies bucket: one kind's prefix (payload/ or result/), whose keys name the merchant and request; objects are read only through the request item that names them.",
  },
  {
    applies: finding => finding === 'Action::kms:GenerateDataKey*' || finding === 'Action::kms:ReEncrypt*',
    reason:
      'Granted with access to a KMS-encrypted topic or table: SNS and DynamoDB choose among the GenerateDataKey/ReEncrypt variants; the statement is scoped to that one key.',
  },
];

/**
 * Acknowledges the AwsSolutions-IAM5 findings of the policies attached under `scope`, one finding
 * id at a time, where a known reason explains them. Call it after every grant has been made.
 */
export function acknowledgeGrantWildcards(scope: IConstruct): void {
  const stack = Stack.of(scope);
  for (const construct of scope.node.findAll()) {
    if (!(construct instanceof Role)) continue;
    for (const child of construct.node.children) {
      if (!(child instanceof Policy)) continue;
      const document = stack.resolve(child.document) as { Statement?: PolicyStatementJson[] };
      // cdk-nag acknowledges a finding id for the whole policy, so every statement that produces
      // it must be explained: an xray `Resource::*` must not also cover, say, sns:Publish on `*`.
      const reasonsByFinding = new Map<string, (string | undefined)[]>();
      for (const statement of document.Statement ?? []) {
        if (statement.Effect !== 'Allow') continue;
        const actions = toArray(statement.Action);
        const findings = [
          ...actions.filter(action => action.includes('*')).map(action => `Action::${action}`),
          ...toArray(statement.Resource)
            .map(flattenReference)
            .filter(resource => resource.includes('*'))
            .map(resource => `Resource::${resource}`),
        ];
        for (const finding of findings) {
          const reason = wildcardReasons.find(entry => entry.applies(finding, { actions, sid: statement.Sid }))?.reason;
          reasonsByFinding.set(finding, [...(reasonsByFinding.get(finding) ?? []), reason]);
        }
      }
      for (const [finding, reasons] of reasonsByFinding) {
        if (reasons.some(reason => reason === undefined)) continue;
        const reason = [...new Set(reasons)].join(' ');
        Validations.of(child).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
      }
    }
  }
}

function toArray<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value as T];
}

/** The flat form cdk-nag gives a CloudFormation reference in a finding id, e.g. `<Table1234.Arn>/index/*`. */
function flattenReference(reference: unknown): string {
  if (typeof reference === 'string') return reference.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (reference && typeof reference === 'object') {
    const node = reference as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (node['Fn::Sub'] !== undefined) return flattenReference(node['Fn::Sub']);
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (node['Fn::ImportValue'] !== undefined) return flattenReference(node['Fn::ImportValue']);
    if (node.Ref !== undefined) return `<${flattenReference(node.Ref)}>`;
  }
  return JSON.stringify(reference);
}
