import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { CfnTopic } from 'aws-cdk-lib/aws-sns';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { SsrfGuard } from '../../lambdas/adapters/ssrf-guard';
import { webhookHostPolicy } from '../../lambdas/core/webhooks/webhook-url';
import { processorRegistry } from '../../lambdas/processors/registry';
import { FOREIGN_TOPICS_DENY_SID } from '../../lib/constructs/functions';
import { HeraldStack, type HeraldStackProps } from '../../lib/herald-stack';
import { ENV } from '../../lambdas/settings/environment';
import { functions, type FunctionName } from '../../lib/topology';
import { statementsOf } from '../support/iam-statements';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

const synthesized = new Map<string, ReturnType<typeof synthOnce>>();

/** Synthesizes each distinct configuration once: a synth takes seconds. */
function synth(props: HeraldStackProps = {}, context: Record<string, unknown> = {}) {
  const key = JSON.stringify([props, context]);
  if (!synthesized.has(key)) synthesized.set(key, synthOnce(props, context));
  return synthesized.get(key)!;
}

function synthOnce(props: HeraldStackProps, context: Record<string, unknown>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new HeraldStack(app, 'Herald', props);
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const environmentOf = (name: FunctionName): Record<string, string> =>
    resources[Stack.of(stack).getLogicalId(stack.functions.get(name).node.defaultChild as CfnFunction)]!.Properties.Environment.Variables;
  return { stack, resources, environmentOf };
}

/** The guard a deployed function builds from its own environment, with DNS answering a public address. */
function guardOf(environment: Record<string, string>) {
  const policy = webhookHostPolicy(environment[ENV.allowedWebhookHosts], environment[ENV.localWebhookHosts]);
  return new SsrfGuard(policy, async (host) => [{ address: host === 'private.hooks.example.com' ? '10.0.0.7' : '93.184.216.34', family: 4 }]);
}

describe('the webhook host allow-list of a synthesized stack', () => {
  const restricted = synth({ allowedWebhookHosts: 'hooks.example.com, private.hooks.example.com' });

  it.each(['webhooks', 'deliver'] as const)('makes the %s function refuse every host not listed', async (name) => {
    const guard = guardOf(restricted.environmentOf(name));
    await expect(guard.check('https://elsewhere.example.org/hook')).rejects.toMatchObject({ reason: 'host-not-allowed' });
    await expect(guard.check('https://hooks.example.com/hook')).resolves.toMatchObject({ hostname: 'hooks.example.com', address: '93.184.216.34' });
  });

  it('still requires https and public addresses of the listed hosts', async () => {
    const guard = guardOf(restricted.environmentOf('webhooks'));
    await expect(guard.check('http://hooks.example.com/hook')).rejects.toMatchObject({ reason: 'https-required' });
    await expect(guard.check('https://private.hooks.example.com/hook')).rejects.toMatchObject({ reason: 'non-public-address' });
  });

  it('lets any public host over https when nothing is listed', async () => {
    const guard = guardOf(synth().environmentOf('webhooks'));
    await expect(guard.check('https://elsewhere.example.org/hook')).resolves.toMatchObject({ hostname: 'elsewhere.example.org' });
    await expect(guard.check('http://127.0.0.1/hook')).rejects.toMatchObject({ reason: 'https-required' });
  });

  it('refuses at synth an allow-list naming a loopback or private address', () => {
    expect(() => synth({ allowedWebhookHosts: 'hooks.example.com,127.0.0.1' })).toThrow(/cannot list 127\.0\.0\.1.*loopback/);
    expect(() => synth({ allowedWebhookHosts: '169.254.169.254' })).toThrow(/cannot list 169\.254\.169\.254/);
    expect(() => synth({ allowedWebhookHosts: 'localhost' })).toThrow(/cannot list localhost/);
  });

  it('refuses at synth the local-only setting for plain-http receivers', () => {
    expect(() => synth({}, { localWebhookHosts: '127.0.0.1' })).toThrow(/localWebhookHosts is for the local runtime only/);
  });

  it('gives no function the local-only setting', () => {
    for (const [, resource] of Object.entries(restricted.resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
      expect(Object.keys(resource.Properties.Environment.Variables)).not.toContain(ENV.localWebhookHosts);
    }
  });
});

describe('the demo processors', () => {
  const registryOf = (environment: Record<string, string>) =>
    processorRegistry({ demoProcessors: environment[ENV.demoProcessors] === 'true' });

  it.each(['submit', 'process'] as const)('are absent from the %s function of a default synth', (name) => {
    const environment = synth().environmentOf(name);
    expect(environment[ENV.demoProcessors]).toBe('false');
    expect(registryOf(environment).registeredTypes()).toEqual(['order.process', 'wallet.debit']);
  });

  it.each(['submit', 'process'] as const)('are present in the %s function with -c demoProcessors=true', (name) => {
    const environment = synth({ demoProcessors: true }).environmentOf(name);
    expect(registryOf(environment).processorFor('demo.sleep')?.type).toBe('demo.sleep');
    expect(registryOf(environment).processorFor('demo.fail')?.type).toBe('demo.fail');
  });
});

describe('the per-merchant quotas', () => {
  it('reach the submit function with their defaults in a default synth: 100 requests in flight and 100 SMS a day per merchant', () => {
    expect(synth().environmentOf('submit')).toMatchObject({ [ENV.maxRequestsInFlight]: '100', [ENV.maxSmsPerDay]: '100' });
  });

  it('reach the submit function as the operator sets them, and refuse what is not a whole number', () => {
    expect(synth({ maxRequestsInFlight: 50, maxSmsPerDay: 0 }).environmentOf('submit')).toMatchObject({ [ENV.maxRequestsInFlight]: '50', [ENV.maxSmsPerDay]: '0' });
    expect(() => synth({ maxRequestsInFlight: -1 })).toThrow(/maxRequestsInFlight must be a whole number/);
    expect(() => synth({ maxSmsPerDay: 2.5 })).toThrow(/maxSmsPerDay must be a whole number/);
  });
});

describe('the SMS countries', () => {
  it('leave SMS off in a default synth', () => {
    expect(synth().environmentOf('submit')[ENV.smsAllowedCountries]).toBe('');
  });

  it('reach submit and the notifications route as listed', () => {
    const { environmentOf } = synth({ smsAllowedCountries: ['us', 'CA'] });
    expect(environmentOf('submit')[ENV.smsAllowedCountries]).toBe('US,CA');
    expect(environmentOf('notifications')[ENV.smsAllowedCountries]).toBe('US,CA');
  });

  it('refuse at synth anything but country codes, the wildcard included', () => {
    expect(() => synth({ smsAllowedCountries: ['*'] })).toThrow(/ISO 3166 alpha-2 codes/);
    expect(() => synth({ smsAllowedCountries: ['USA'] })).toThrow(/got "USA"/);
  });
});

describe("the SMS sender's publish grant", () => {
  const { stack, resources } = synth();
  const topicArns = [...stack.notifications.byName.values()].map((topic) => ({ Ref: Stack.of(stack).getLogicalId(topic.node.defaultChild as CfnTopic) }));

  it('is denied every topic but Herald\'s own, while phone numbers (no resource account) stay allowed', () => {
    const denies = statementsOf(stack, resources, 'process').filter((statement) => statement.Effect === 'Deny');
    expect(denies).toEqual([
      {
        Sid: FOREIGN_TOPICS_DENY_SID,
        Effect: 'Deny',
        Action: 'sns:Publish',
        NotResource: topicArns.length === 1 ? topicArns[0] : topicArns,
        Condition: { Null: { 'aws:ResourceAccount': 'false' } },
      },
    ]);
  });

  it('is the only publish on every resource, and it carries the deny', () => {
    for (const name of Object.keys(functions) as FunctionName[]) {
      const statements = statementsOf(stack, resources, name);
      const wildcardPublish = statements.some((s) => s.Effect === 'Allow' && s.Resource === '*' && [s.Action].flat().includes('sns:Publish'));
      const deny = statements.some((s) => s.Sid === FOREIGN_TOPICS_DENY_SID);
      expect({ name, deny }).toEqual({ name, deny: wildcardPublish });
    }
  });
});

describe('the bodies bucket grants', () => {
  const { stack, resources, environmentOf } = synth();
  const bucketId = Stack.of(stack).getLogicalId(stack.storage.bodiesBucket.node.defaultChild as CfnBucket);
  /** Each S3 action a function may take, with the key prefixes it may take it on. */
  const s3Grants = (name: FunctionName): Record<string, string[]> => {
    const grants: Record<string, string[]> = {};
    for (const statement of statementsOf(stack, resources, name)) {
      const actions = [statement.Action].flat().filter((action) => action.startsWith('s3:'));
      if (statement.Effect !== 'Allow' || actions.length === 0) continue;
      const prefixes = [statement.Resource].flat().map((resource) => {
        const parts = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        expect(parts[0]).toEqual({ 'Fn::GetAtt': [bucketId, 'Arn'] });
        return String(parts[1]);
      });
      for (const action of actions) grants[action] = [...(grants[action] ?? []), ...prefixes].sort();
    }
    return grants;
  };

  // Who touches which body, by what each function does with a request (docs/data-model.md).
  const expected: Partial<Record<FunctionName, Record<string, string[]>>> = {
    submit: { 's3:PutObject': ['/payload/*'] },
    process: { 's3:GetObject': ['/payload/*', '/result/*'], 's3:PutObject': ['/result/*'] },
    status: { 's3:GetObject': ['/result/*'] },
    deliver: { 's3:GetObject': ['/result/*'] },
    webhooks: { 's3:GetObject': ['/result/*'] },
    events: { 's3:GetObject': ['/result/*'] },
    statusPage: { 's3:GetObject': ['/result/*'] },
  };

  it.each(Object.keys(functions) as FunctionName[])('give %s only the object reads and writes its work needs, and never a listing or a delete', (name) => {
    expect(s3Grants(name)).toEqual(expected[name] ?? {});
  });

  it.each(Object.keys(functions) as FunctionName[])('name the bucket in the environment of %s only when it is granted', (name) => {
    expect(environmentOf(name)[ENV.bodiesBucket] !== undefined).toBe(expected[name] !== undefined);
  });
});
