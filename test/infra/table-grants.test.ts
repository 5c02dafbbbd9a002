import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { HeraldStack } from '../../lib/herald-stack';
import { functions, type FunctionName } from '../../lib/topology';
import { statementsOf, type Statement } from '../support/iam-statements';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new HeraldStack(app, 'Herald');
const resources = Template.fromStack(stack).toJSON().Resources as Resources;
const mainTableId = Stack.of(stack).getLogicalId(stack.storage.table.node.defaultChild as CfnTable);

const actionsOf = (statement: Statement): string[] => [statement.Action].flat();
const allows = (statement: Statement, action: string): boolean =>
  statement.Effect === 'Allow' && actionsOf(statement).some((granted) => granted === action || granted === 'dynamodb:*' || granted === 'sns:*' || granted === '*');

/** The statements of a function that reach the main table (by its name or a wildcard). */
function mainTableStatements(name: FunctionName): Statement[] {
  return statementsOf(stack, resources, name).filter((statement) => {
    const named = JSON.stringify(statement.Resource ?? null);
    return named.includes(mainTableId) || named.includes('"*"');
  });
}

const everyFunction = Object.keys(functions) as FunctionName[];
const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

/**
 * The partitions each function works on, read from what it does (docs/data-model.md): key
 * lookups (`KEY#`), requests and what lies beside them (`REQ#`), a merchant's own partition and
 * its byMerchant index entries (`MER#`), an ordering key's numbers (`ORDER#<merchant>#<key>`,
 * drawn by a submit and given up by a cancel); the status token's secret lives in the secrets table.
 */
const KEY_SPACES: Partial<Record<FunctionName, string[]>> = {
  authorizer: ['KEY#*'],
  submit: ['REQ#*', 'MER#*', 'ORDER#*#*'],
  status: ['REQ#*'],
  list: ['MER#*', 'REQ#*'],
  cancel: ['REQ#*', 'MER#*', 'ORDER#*#*'],
  statusPage: ['REQ#*'],
  notifications: ['MER#*'],
};

describe('the main table grants in the synthesized template', () => {
  it.each(everyFunction)('let the %s function scan nothing', (name) => {
    expect(mainTableStatements(name).filter((statement) => allows(statement, 'dynamodb:Scan'))).toEqual([]);
  });

  it.each(Object.entries(KEY_SPACES))('hold the %s function to the partitions %j, on every statement that reads', (name, leadingKeys) => {
    const statements = mainTableStatements(name as FunctionName).filter((statement) => allows(statement, 'dynamodb:GetItem'));
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeys } });
    }
  });

  // The status function writes only its merchant's count of waiting calls, by a statement of its own.
  it.each(['authorizer', 'list', 'statusPage'] as const)('give the read-only %s function no write', (name) => {
    for (const action of WRITES) expect(mainTableStatements(name).filter((statement) => allows(statement, action))).toEqual([]);
  });

  it('let the events function write only the stream slot items (STREAMS#), which bound its open streams', () => {
    const writing = WRITES.flatMap((action) => mainTableStatements('events').filter((statement) => allows(statement, action)));
    expect(writing.length).toBeGreaterThan(0);
    for (const statement of writing) {
      expect(statement.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['STREAMS#*'] } });
    }
  });

  it('keep the public status page and the authorizer away from each other\'s items: neither names the other\'s partitions', () => {
    const patterns = (name: FunctionName) => mainTableStatements(name).flatMap((statement) => [statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']].flat());
    expect(patterns('statusPage')).not.toContain('KEY#*');
    expect(patterns('statusPage')).not.toContain('MER#*');
    expect(patterns('authorizer')).not.toContain('REQ#*');
  });
});

describe('the notification subscriptions in the synthesized template', () => {
  const subscribers = everyFunction.filter((name) => statementsOf(stack, resources, name).some((statement) => allows(statement, 'sns:Subscribe')));

  it('are made by the process and notifications functions only', () => {
    expect(subscribers.sort()).toEqual(['notifications', 'process']);
  });

  it.each(['process', 'notifications'] as const)('let the %s function subscribe by email or SMS only', (name) => {
    const grants = statementsOf(stack, resources, name).filter((statement) => allows(statement, 'sns:Subscribe'));
    expect(grants.length).toBeGreaterThan(0);
    for (const statement of grants) {
      expect(actionsOf(statement)).toEqual(['sns:Subscribe']);
      expect(statement.Condition).toEqual({ StringEquals: { 'sns:Protocol': ['email', 'sms'] } });
    }
  });
});
