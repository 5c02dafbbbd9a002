import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { HeraldStack } from '../../lib/herald-stack';
import { ENV, functions, type FunctionName } from '../../lib/topology';
import { keys } from '../../lambdas/adapters/dynamo/keys';
import { statementsOf, type Statement } from '../support/iam-statements';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald');
const resources = Template.fromStack(stack).toJSON().Resources as Resources;
const secretsTableId = Stack.of(stack).getLogicalId(stack.storage.secretsTable.node.defaultChild as CfnTable);
const mainTableId = Stack.of(stack).getLogicalId(stack.storage.table.node.defaultChild as CfnTable);

const actionsOf = (statement: Statement): string[] => [statement.Action].flat();
const names = (statement: Statement): string => JSON.stringify(statement.Resource);
const readActions = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'];

/** Statements that let a function read items of the secrets table: by its name, or by a wildcard. */
function secretReads(name: FunctionName): Statement[] {
  return statementsOf(stack, resources, name).filter(
    (statement) =>
      statement.Effect === 'Allow' &&
      actionsOf(statement).some((action) => readActions.includes(action) || action === 'dynamodb:*' || action === '*') &&
      (names(statement).includes(secretsTableId) || names(statement).includes('"*"')),
  );
}

const SECRET_HOLDERS: readonly FunctionName[] = ['webhooks', 'deliver'];
/** Issue 19: the status token secret sits in the secrets table, read by these two only. */
const STATUS_TOKEN_READERS: readonly FunctionName[] = ['submit', 'statusPage'];
/** Issue 19: every function that sends to or consumes the deliveries queue seals or checks its messages. */
const DELIVERY_MESSAGE_HANDLERS: readonly FunctionName[] = ['process', 'webhooks', 'deliver', 'sweepDeliveries'];
const others = (Object.keys(functions) as FunctionName[]).filter(
  (name) => !SECRET_HOLDERS.includes(name) && !STATUS_TOKEN_READERS.includes(name) && !DELIVERY_MESSAGE_HANDLERS.includes(name),
);
const DELIVERY_MESSAGE_KEY = 'CONFIG#delivery-message-key';
const STATUS_TOKEN_SECRET_KEY = 'CONFIG#status-token-secret';
const withCondition = (statement: Statement) => statement as Statement & { Condition?: Record<string, Record<string, unknown>> };

describe('the webhook signing secrets table', () => {
  it('is a table of its own, on demand, apart from the main table', () => {
    expect(secretsTableId).not.toEqual(mainTableId);
    expect(resources[secretsTableId]!.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it.each(others)('cannot be read by the %s function, whose policy never names it', (name) => {
    expect(secretReads(name)).toEqual([]);
    const environment = resources[Stack.of(stack).getLogicalId(stack.functions.get(name).node.defaultChild as CfnFunction)]!.Properties
      .Environment.Variables as Record<string, unknown>;
    expect(environment[ENV.secretsTableName]).toBeUndefined();
  });

  it.each(SECRET_HOLDERS)('can be read by the %s function, which is told its name', (name) => {
    const granted = secretReads(name).flatMap(actionsOf);
    expect(granted).toEqual(expect.arrayContaining(['dynamodb:GetItem']));
    const environment = resources[Stack.of(stack).getLogicalId(stack.functions.get(name).node.defaultChild as CfnFunction)]!.Properties
      .Environment.Variables as Record<string, unknown>;
    expect(environment[ENV.secretsTableName]).toEqual({ Ref: secretsTableId });
  });


  it('is written only by the webhooks function and, under the status token secret\'s key alone, by submit', () => {
    const writers = (Object.keys(functions) as FunctionName[]).filter((name) =>
      statementsOf(stack, resources, name).some(
        (statement) =>
          statement.Effect === 'Allow' &&
          names(statement).includes(secretsTableId) &&
          actionsOf(statement).includes('dynamodb:PutItem') &&
          !withCondition(statement).Condition,
      ),
    );
    expect(writers).toEqual(['webhooks']);
  });
});

describe('the key that seals delivery messages', () => {
  it('is the secrets table\'s item, apart from the status token secret', () => {
    expect(keys.deliveryMessageKey().pk).toBe(DELIVERY_MESSAGE_KEY);
  });

  it.each(DELIVERY_MESSAGE_HANDLERS)('can be read and made by the %s function, by its key alone', (name) => {
    const keyed = secretReads(name).filter((statement) => JSON.stringify(withCondition(statement).Condition ?? {}).includes(DELIVERY_MESSAGE_KEY));
    expect(keyed).toHaveLength(1);
    expect(withCondition(keyed[0]!).Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [DELIVERY_MESSAGE_KEY] } });
    expect(actionsOf(keyed[0]!)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    const environment = resources[Stack.of(stack).getLogicalId(stack.functions.get(name).node.defaultChild as CfnFunction)]!.Properties
      .Environment.Variables as Record<string, unknown>;
    expect(environment[ENV.secretsTableName]).toEqual({ Ref: secretsTableId });
  });

  it.each(['process', 'sweepDeliveries'] as FunctionName[])('is all the %s function may read of the secrets table', (name) => {
    const reads = secretReads(name);
    expect(reads).toHaveLength(1);
    expect(withCondition(reads[0]!).Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [DELIVERY_MESSAGE_KEY] } });
  });
});

describe('the status token secret', () => {
  it('is the secrets table\'s item, not the main table\'s', () => {
    expect(keys.statusTokenSecret().pk).toBe(STATUS_TOKEN_SECRET_KEY);
  });

  it.each(STATUS_TOKEN_READERS)('can be read by the %s function, by its key alone, and no other item of the secrets table', (name) => {
    const reads = secretReads(name);
    expect(reads).toHaveLength(1);
    expect(withCondition(reads[0]!).Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [STATUS_TOKEN_SECRET_KEY] } });
    expect(actionsOf(reads[0]!)).toEqual(name === 'submit' ? ['dynamodb:GetItem', 'dynamodb:PutItem'] : ['dynamodb:GetItem']);
    const environment = resources[Stack.of(stack).getLogicalId(stack.functions.get(name).node.defaultChild as CfnFunction)]!.Properties
      .Environment.Variables as Record<string, unknown>;
    expect(environment[ENV.secretsTableName]).toEqual({ Ref: secretsTableId });
  });

  it.each(SECRET_HOLDERS)('is denied to the %s function, which reads the signing secrets beside it, and so is a scan', (name) => {
    const denies = statementsOf(stack, resources, name).filter((statement) => statement.Effect === 'Deny' && names(statement).includes(secretsTableId));
    const keyed = denies.find((statement) => actionsOf(statement).includes('dynamodb:GetItem'))!;
    expect(actionsOf(keyed)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']));
    expect(withCondition(keyed).Condition).toEqual({ 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': [STATUS_TOKEN_SECRET_KEY] } });
    expect(denies.some((statement) => actionsOf(statement).includes('dynamodb:Scan') && !withCondition(statement).Condition)).toBe(true);
  });
});
