import { App, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeGrantWildcards } from '../../lib/constructs/nag-acknowledgements';
import { HeraldStack } from '../../lib/herald-stack';

function heraldApp() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return { app, stack: new HeraldStack(app, 'Herald', { alarmEmail: 'ops@example.com' }) };
}

it('passes the AWS Solutions checks with no unacknowledged error or warning', () => {
  const { app, stack } = heraldApp();
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  const findings = report.violations.map(
    v => `${v.severity} ${v.ruleName} at ${v.violatingResources.map(r => r.constructPath).join(', ')}: ${v.description}`,
  );
  expect(findings).toEqual([]);
});

it('gives every acknowledgement a reason', () => {
  const { stack } = heraldApp();
  const acknowledgements = stack.node
    .findAll()
    .flatMap(c => c.node.metadata.filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap(m => Object.entries(m.data as Record<string, unknown>));
  for (const [id, reason] of acknowledgements) {
    expect(id).toMatch(/AwsSolutions-[A-Z]+\d+/);
    expect(String(reason).length).toBeGreaterThan(40);
  }
});

it('would report a violation, so a clean report means a checked stack', () => {
  const { app, stack } = heraldApp();
  new Queue(stack, 'UnencryptedQueueWithoutDeadLetters', { enforceSSL: false });
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  expect(report.violations.map(v => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
});

it('leaves a wildcard that no known reason explains for a human to decide', () => {
  const app = new App();
  const stack = new Stack(app, 'Wildcards');
  const role = new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new PolicyStatement({ actions: ['xray:PutTraceSegments'], resources: ['*'] }));
  role.addToPolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: ['*'] }));
  role.addToPolicy(new PolicyStatement({ actions: ['s3:Get*'], resources: ['arn:aws:s3:::bucket/*'] }));
  acknowledgeGrantWildcards(stack);
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  expect(report.violations.map(v => v.ruleName).sort()).toEqual([
    'AwsSolutions-IAM5[Action::s3:Get*]',
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-IAM5[Resource::arn:aws:s3:::bucket/*]',
  ]);
});

it('synthesizes with the checks registered the way bin/cdk-app.ts does', () => {
  const { app } = heraldApp();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});
