import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { HeraldStack } from '../../lib/herald-stack';
import { ENV, functions, type FunctionName } from '../../lib/topology';
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
const others = (Object.keys(functions) as FunctionName[]).filter((name) => !SECRET_HOLDERS.includes(name));

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

  it('is written only by the webhooks function, which registers and rotates the secrets', () => {
    const writers = (Object.keys(functions) as FunctionName[]).filter((name) =>
      statementsOf(stack, resources, name).some(
        (statement) =>
          statement.Effect === 'Allow' && names(statement).includes(secretsTableId) && actionsOf(statement).includes('dynamodb:PutItem'),
      ),
    );
    expect(writers).toEqual(['webhooks']);
  });
});
