import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SsrfGuard } from '../../lambdas/adapters/ssrf-guard';
import { webhookHostPolicy } from '../../lambdas/core/webhook-url';
import { HeraldStack, type HeraldStackProps } from '../../lib/herald-stack';
import { ENV, type FunctionName } from '../../lib/topology';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

function synth(props: HeraldStackProps = {}, context: Record<string, unknown> = {}) {
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
