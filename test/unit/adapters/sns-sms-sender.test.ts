import { InvalidParameterException, PublishCommand, ThrottledException, type SNSClient } from '@aws-sdk/client-sns';
import { SnsSmsSender } from '../../../lambdas/adapters/sns-notifier';
import { NotificationRejectedError } from '../../../lambdas/core/notifications/notification-errors';

/** SMS cannot be sent from here (nor by the SNS emulator): the client is a stand-in that keeps what it is given. */
function client(fail?: Error) {
  const commands: PublishCommand[] = [];
  const stub = {
    async send(command: PublishCommand) {
      commands.push(command);
      if (fail) throw fail;
      return { MessageId: 'm-1' };
    },
  } as unknown as SNSClient;
  return { stub, commands };
}

it('publishes to the phone number as a transactional SMS with the sender id', async () => {
  const { stub, commands } = client();
  await new SnsSmsSender(stub, 'HERALD').send({ to: '+15555550150', text: 'Herald: request req_1 (demo.sleep) succeeded.' });
  expect(commands).toHaveLength(1);
  expect(commands[0]).toBeInstanceOf(PublishCommand);
  expect(commands[0]!.input).toEqual({
    PhoneNumber: '+15555550150',
    Message: 'Herald: request req_1 (demo.sleep) succeeded.',
    MessageAttributes: {
      'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
      'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'HERALD' },
    },
  });
});

it('leaves the sender id out when none is configured', async () => {
  const { stub, commands } = client();
  await new SnsSmsSender(stub).send({ to: '+15555550150', text: 'x' });
  expect(Object.keys(commands[0]!.input.MessageAttributes!)).toEqual(['AWS.SNS.SMS.SMSType']);
});

it('turns a refused number into a rejection that is not retried, and leaves throttling to the retry', async () => {
  const refused = new InvalidParameterException({ message: 'Invalid parameter: PhoneNumber', $metadata: {} });
  await expect(new SnsSmsSender(client(refused).stub).send({ to: '+15555550150', text: 'x' })).rejects.toBeInstanceOf(NotificationRejectedError);
  const throttled = new ThrottledException({ message: 'Rate exceeded', $metadata: {} });
  await expect(new SnsSmsSender(client(throttled).stub).send({ to: '+15555550150', text: 'x' })).rejects.toBe(throttled);
});
