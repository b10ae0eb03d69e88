// Container health check: asks grpc.health.v1.Health/Check for the overall status ("") of the
// service in this container and exits 0 only for SERVING. Plain node:http2 and a hand-encoded
// message, so the image needs no extra dependency and no shell.
//
// Usage: node health-probe.mjs [defaultPort]   (FILESYNC_GRPC_PORT wins when set)
import { connect } from 'node:http2';

const port = Number(process.env.FILESYNC_GRPC_PORT || process.argv[2] || 0);
const TIMEOUT_MS = 3000;
const SERVING = 1;

function fail(reason) {
  process.stderr.write(`unhealthy: ${reason}\n`);
  process.exit(1);
}

if (!Number.isInteger(port) || port <= 0) fail('no gRPC port (FILESYNC_GRPC_PORT or argument)');

// A service given a certificate (FILESYNC_TLS_CERT_FILE) serves TLS only. This probe asks its own
// container over loopback and sends nothing secret, so it does not verify the certificate, which
// names the service's public address rather than 127.0.0.1.
const session = process.env.FILESYNC_TLS_CERT_FILE
  ? connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false })
  : connect(`http://127.0.0.1:${port}`);
const timer = setTimeout(() => fail(`no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS);
session.on('error', (error) => fail(error.message));

const call = session.request({
  ':method': 'POST',
  ':path': '/grpc.health.v1.Health/Check',
  'content-type': 'application/grpc',
  te: 'trailers',
  'grpc-timeout': `${TIMEOUT_MS}m`,
});
const chunks = [];
call.on('data', (chunk) => chunks.push(chunk));
call.on('trailers', (trailers) => {
  if (trailers['grpc-status'] !== '0')
    fail(`grpc-status ${trailers['grpc-status']} ${trailers['grpc-message'] ?? ''}`);
});
call.on('end', () => {
  clearTimeout(timer);
  session.close();
  // One length-prefixed message: flag byte, 4-byte length, then HealthCheckResponse whose only
  // field is `status` (field 1, varint): bytes 0x08 <status>. SERVING = 1; an absent field = UNKNOWN.
  const body = Buffer.concat(chunks);
  const message = body.subarray(5);
  const status = message.length >= 2 && message[0] === 0x08 ? message[1] : 0;
  if (status !== SERVING) fail(`status ${status}`);
  process.exit(0);
});
call.on('error', (error) => fail(error.message));
// HealthCheckRequest { service: "" } encodes to zero bytes: uncompressed, length 0.
call.end(Buffer.alloc(5));
