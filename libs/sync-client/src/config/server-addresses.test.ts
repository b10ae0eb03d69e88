import { InvalidServerError, serverAddresses } from './server-addresses';

describe('serverAddresses', () => {
  it('puts the four services on consecutive ports from the base', () => {
    expect(serverAddresses()).toEqual({
      server: '127.0.0.1:50051',
      auth: '127.0.0.1:50051',
      metadata: '127.0.0.1:50052',
      syncDiff: '127.0.0.1:50053',
      notifier: '127.0.0.1:50054',
    });
    expect(serverAddresses('sync.example.com:7000').notifier).toBe('sync.example.com:7003');
    expect(serverAddresses('sync.example.com').metadata).toBe('sync.example.com:50052');
    expect(serverAddresses('[::1]:6000').syncDiff).toBe('[::1]:6002');
  });

  it.each(['', 'http://host', 'host:', 'host:99999', 'a b'])('refuses %j', (spec) => {
    expect(() => serverAddresses(spec)).toThrow(InvalidServerError);
  });
});
