import { DEFAULT_CONFIG, readDeployConfig } from '../src/config';

const reader = (values: Record<string, unknown>) => (key: string) => values[key];

describe('readDeployConfig', () => {
  it('uses the defaults when no context is given', () => {
    expect(readDeployConfig(reader({}))).toEqual(DEFAULT_CONFIG);
  });

  it('reads prefixed context values, numbers given as strings on the command line', () => {
    const config = readDeployConfig(
      reader({
        'filesync:imageTag': 'abc123',
        'filesync:minTasks': '2',
        'filesync:maxTasks': 4,
        'filesync:availabilityZones': 'eu-west-1a, eu-west-1b',
        'filesync:mailFrom': 'sync@example.com',
        'filesync:retentionDays': '0',
      }),
    );
    expect(config).toMatchObject({
      retentionDays: 0,
      imageTag: 'abc123',
      minTasks: 2,
      maxTasks: 4,
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      mailFrom: 'sync@example.com',
      // The identity defaults to the sender address.
      mailIdentity: 'sync@example.com',
    });
  });

  it('names every bad key in one error', () => {
    expect(() =>
      readDeployConfig(
        reader({
          'filesync:minTasks': 'many',
          'filesync:availabilityZones': ['a'],
          'filesync:maxInstances': 1,
        }),
      ),
    ).toThrow(
      'Invalid deploy context: filesync:minTasks must be an integer >= 1; filesync:availabilityZones must name exactly two zones; filesync:maxInstances must be >= minInstances',
    );
  });
});
