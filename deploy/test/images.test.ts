import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES, SERVICE_PORTS } from '@filesync/resources';
import { IMAGE_LAYOUT } from '../src/service';

// The task definitions run what the Dockerfiles build: same node path, probe and ports.
describe.each(SERVICE_NAMES)('services/%s/Dockerfile', (name) => {
  const dockerfile = readFileSync(join(__dirname, '..', '..', 'services', name, 'Dockerfile'), 'utf8');
  const ports = SERVICE_PORTS[name];

  it('builds on the local distroless Node 24 base by default and runs as non-root', () => {
    expect(dockerfile).toContain('ARG BASE_IMAGE=filesync/node24-distroless:24\nFROM ${BASE_IMAGE}');
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toContain(`ENTRYPOINT ["${IMAGE_LAYOUT.node}", "/app/main.mjs"]`);
  });

  it('probes grpc.health.v1 with the probe the task definition runs', () => {
    expect(dockerfile).toContain(
      `CMD ["${IMAGE_LAYOUT.node}", "${IMAGE_LAYOUT.healthProbe}", "${ports.grpc}"]`,
    );
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${ports.grpc} ${ports.metrics}$`, 'm'));
  });
});
