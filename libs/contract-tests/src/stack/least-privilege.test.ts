import { SERVICE_PERMISSIONS, policyStatements, type ResourceArns } from '@filesync/resources';
import { motoStatements } from './least-privilege';

const ARNS: ResourceArns = {
  tables: {
    auth: 'table/auth',
    metadata: 'table/metadata',
    outbox: 'table/outbox',
    notifier: 'table/notifier',
  },
  queue: 'queue',
  advanceTopic: 'topic',
  taskQueuesPrefix: 'task-queue-',
  bucket: 'bucket',
  storageRole: 'role',
  mailIdentity: 'identity',
};

describe('motoStatements', () => {
  test('adds the batch API names moto checks next to the single-message action AWS authorises', () => {
    const statements = motoStatements(policyStatements(SERVICE_PERMISSIONS.metadata, ARNS));
    const queue = statements.find((statement) => statement.Resource.includes('queue'));
    expect(queue?.Action).toEqual(['sqs:SendMessage', 'sqs:SendMessageBatch']);
    const notifierQueue = motoStatements(policyStatements(SERVICE_PERMISSIONS.notifier, ARNS)).find(
      (statement) => statement.Resource.includes('queue'),
    );
    expect(notifierQueue?.Action).toEqual([
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:DeleteMessageBatch',
    ]);
  });

  test('changes nothing else: same statements, same resources, no new action without its base', () => {
    for (const grants of Object.values(SERVICE_PERMISSIONS)) {
      const plain = policyStatements(grants, ARNS);
      const all = motoStatements(plain);
      const moto = all.slice(0, plain.length);
      expect(moto.map((statement) => statement.Resource)).toEqual(
        plain.map((statement) => statement.Resource),
      );
      // Beyond them only the actions moto checks against "*", each granted to the role already.
      const granted = plain.flatMap((statement) => statement.Action);
      const extra = all.slice(plain.length);
      expect(extra.length).toBeLessThanOrEqual(1);
      for (const statement of extra) {
        expect(statement.Resource).toEqual(['*']);
        expect(statement.Action.every((action) => granted.includes(action))).toBe(true);
        expect(statement.Action.every((action) => /^(sqs:CreateQueue|sns:\w+)$/.test(action))).toBe(true);
      }
      moto.forEach((statement, index) => {
        const base = plain[index]?.Action ?? [];
        const added = statement.Action.filter((action) => !base.includes(action));
        expect(added.every((action) => base.includes(action.replace(/Batch$/, '')))).toBe(true);
      });
    }
  });
});
