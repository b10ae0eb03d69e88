import { SERVICE_NAMES } from '@filesync/resources';
import type { EmulatorPorts } from './emulators';

/** Where a stack listens: the first service's gRPC and metrics ports (the others follow), the emulators. */
export interface StackPorts {
  readonly basePort: number;
  readonly metricsBasePort?: number;
  readonly emulatorPorts: EmulatorPorts;
}

/**
 * `ports` shifted by `offset`, the one way every stack beside another is placed (`npm start --
 * --port-offset N`, the integration tier's FILESYNC_E2E_PORT_OFFSET): service ports move by four
 * per step, as there are four services, so two offsets never share one; DynamoDB Local and SES,
 * five apart, by two per step, so one's even and the other's odd ports never meet.
 */
export function shiftStackPorts(ports: StackPorts, offset: number): StackPorts {
  const services = offset * SERVICE_NAMES.length;
  return {
    basePort: ports.basePort + services,
    ...(ports.metricsBasePort === undefined ? {} : { metricsBasePort: ports.metricsBasePort + services }),
    emulatorPorts: {
      moto: ports.emulatorPorts.moto + offset,
      dynamodb: ports.emulatorPorts.dynamodb + offset * 2,
      ses: ports.emulatorPorts.ses + offset * 2,
    },
  };
}

/** A port offset as given (`what` names where), a whole number from 0 to `max`; else a RangeError saying so. */
export function parsePortOffset(raw: string, what: string, max: number): number {
  const offset = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(offset) || offset < 0 || offset > max) {
    throw new RangeError(`${what} must be a whole number from 0 to ${max}, got ${JSON.stringify(raw)}`);
  }
  return offset;
}
