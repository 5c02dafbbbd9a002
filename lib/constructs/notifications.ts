import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { topics } from '../topology';
import { pascalCase } from './naming';

export type TopicName = keyof typeof topics;

/**
 * The topology's SNS topics. Each has its own customer-managed key: SNS has no AWS-owned
 * encryption, and the AWS-managed `aws/sns` key cannot be granted to publishers or services.
 */
export class Notifications extends Construct {
  readonly byName: ReadonlyMap<TopicName, Topic>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const byName = new Map<TopicName, Topic>();
    for (const [name, spec] of Object.entries(topics) as [TopicName, (typeof topics)[TopicName]][]) {
      const baseId = pascalCase(name);
      const masterKey = new Key(this, `${baseId}TopicKey`, {
        description: `Encrypts messages of the Herald ${name} topic`,
        enableKeyRotation: true,
      });
      byName.set(name, new Topic(this, `${baseId}Topic`, { displayName: spec.displayName, masterKey, enforceSSL: true }));
    }
    this.byName = byName;
  }

  get(name: TopicName): Topic {
    const topic = this.byName.get(name);
    if (!topic) throw new Error(`Topic ${name} is not in the topology`);
    return topic;
  }
}
