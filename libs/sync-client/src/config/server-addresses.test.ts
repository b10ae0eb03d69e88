import { InvalidServerError, isLoopback, serverAddresses } from './server-addresses';

describe('serverAddresses', () => {
  it('puts the four services on consecutive ports from the base', () => {
    expect(serverAddresses()).toEqual({
      server: '127.0.0.1:50051',
      host: '127.0.0.1',
      tls: false,
      insecure: false,
      auth: '127.0.0.1:50051',
      metadata: '127.0.0.1:50052',
      syncDiff: '127.0.0.1:50053',
      notifier: '127.0.0.1:50054',
    });
    expect(serverAddresses('sync.example.com:7000').notifier).toBe('sync.example.com:7003');
    expect(serverAddresses('sync.example.com').metadata).toBe('sync.example.com:50052');
    expect(serverAddresses('[::1]:6000').syncDiff).toBe('[::1]:6002');
    expect(serverAddresses('grpcs://127.0.0.1:6000').syncDiff).toBe('127.0.0.1:6002');
  });

  it.each(['', 'http://host', 'grpc://host', 'grpcs://', 'host:', 'host:99999', 'a b'])(
    'refuses %j',
    (spec) => {
      expect(() => serverAddresses(spec)).toThrow(InvalidServerError);
    },
  );

  describe('transport', () => {
    const transport = (spec: string, choice = {}) => {
      const { server, tls, insecure } = serverAddresses(spec, choice);
      return { server, tls, insecure };
    };

    it('is TLS for every server that is not loopback, recorded as host:port', () => {
      expect(transport('sync.example.com')).toEqual({
        server: 'sync.example.com:50051',
        tls: true,
        insecure: false,
      });
      expect(transport('10.0.0.7:7000')).toEqual({ server: '10.0.0.7:7000', tls: true, insecure: false });
      expect(transport('[2001:db8::1]')).toMatchObject({ tls: true });
      // A name that merely starts like loopback is not loopback.
      expect(transport('127.0.0.1.example.com')).toMatchObject({ tls: true });
      expect(transport('localhost.example.com')).toMatchObject({ tls: true });
    });

    it('is plaintext for loopback unless grpcs:// or --tls asks for TLS, which the recorded name keeps', () => {
      expect(transport('127.0.0.1')).toEqual({ server: '127.0.0.1:50051', tls: false, insecure: false });
      expect(transport('localhost:6000')).toMatchObject({ tls: false });
      expect(transport('[::1]')).toMatchObject({ tls: false });
      expect(transport('grpcs://127.0.0.1:6000')).toEqual({
        server: 'grpcs://127.0.0.1:6000',
        tls: true,
        insecure: false,
      });
      expect(transport('127.0.0.1:6000', { tls: true })).toEqual(transport('grpcs://127.0.0.1:6000'));
      // What the session recorded reads back the same way.
      expect(transport(transport('GRPCS://localhost').server)).toMatchObject({ tls: true });
    });

    it('is plaintext with --insecure, flagged (to warn) only for a server that is not loopback, and never recorded', () => {
      expect(transport('sync.example.com', { insecure: true })).toEqual({
        server: 'sync.example.com:50051',
        tls: false,
        insecure: true,
      });
      expect(transport('grpcs://127.0.0.1', { insecure: true })).toEqual({
        server: '127.0.0.1:50051',
        tls: false,
        insecure: false,
      });
    });

    it('refuses --tls with --insecure', () => {
      expect(() => serverAddresses('sync.example.com', { tls: true, insecure: true })).toThrow(/contradict/);
    });
  });
});

describe('isLoopback', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    'localhost',
    'LOCALHOST',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ])('%s is loopback', (host) => expect(isLoopback(host)).toBe(true));
  it.each([
    '128.0.0.1',
    '10.0.0.1',
    '0.0.0.0',
    '::',
    '::ffff:10.0.0.1',
    'example.com',
    'localhost.',
    '127.0.0.1.nip.io',
  ])('%s is not', (host) => expect(isLoopback(host)).toBe(false));
});
