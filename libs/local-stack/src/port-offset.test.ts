import { parsePortOffset, shiftStackPorts } from './port-offset';
import { MAX_PORT_OFFSET, parseArguments, startPorts } from './start-command';

describe('D12: npm start -- --port-offset N', () => {
  it('takes --tls and --port-offset N (or =N), and refuses anything else', () => {
    expect(parseArguments([])).toEqual({ tls: false, portOffset: 0 });
    expect(parseArguments(['--port-offset', '700', '--tls'])).toEqual({ tls: true, portOffset: 700 });
    expect(parseArguments(['--port-offset=3'])).toEqual({ tls: false, portOffset: 3 });
    expect(() => parseArguments(['--port-offset'])).toThrow(
      /--port-offset must be a whole number from 0 to 3000, got ""/,
    );
    expect(() => parseArguments(['--port-offset', '-1'])).toThrow(RangeError);
    expect(() => parseArguments(['--port-offset', String(MAX_PORT_OFFSET + 1)])).toThrow(RangeError);
    expect(() => parseArguments(['--nope'])).toThrow(
      'unknown option --nope (the options are --tls and --port-offset N)',
    );
  });

  it('shifts every port as the integration tier does, so no two offsets share a port', () => {
    expect(startPorts(0)).toEqual({
      basePort: 50051,
      metricsBasePort: 9461,
      emulatorPorts: { moto: 4566, dynamodb: 8000, ses: 8005 },
    });
    expect(startPorts(700)).toEqual({
      basePort: 52851,
      metricsBasePort: 12261,
      emulatorPorts: { moto: 5266, dynamodb: 9400, ses: 9405 },
    });
    const ports = (offset: number) => {
      const shifted = startPorts(offset);
      const services = [0, 1, 2, 3].flatMap((i) => [shifted.basePort + i, shifted.metricsBasePort! + i]);
      return [...services, ...Object.values(shifted.emulatorPorts)];
    };
    const seen = new Map<number, number>();
    for (let offset = 0; offset <= 50; offset++) {
      for (const port of ports(offset)) {
        expect(seen.get(port) ?? offset).toBe(offset);
        seen.set(port, offset);
      }
    }
    expect(Math.max(...ports(MAX_PORT_OFFSET))).toBeLessThan(65536);
    // The integration tier's, as it always was.
    expect(
      shiftStackPorts({ basePort: 21051, emulatorPorts: { moto: 14566, dynamodb: 18000, ses: 18005 } }, 2),
    ).toEqual({
      basePort: 21059,
      emulatorPorts: { moto: 14568, dynamodb: 18004, ses: 18009 },
    });
    expect(parsePortOffset('12', 'X', 20)).toBe(12);
    expect(() => parsePortOffset('1.5', 'X', 20)).toThrow('X must be a whole number from 0 to 20, got "1.5"');
  });
});
