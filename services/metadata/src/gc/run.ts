import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GARBAGE_COLLECTION, LIMITS } from '@filesync/resources';
import { awsClientConfig, ConfigError } from '@filesync/server-kit/jobs';
import pino from 'pino';
import { GarbageCollector, type GcReport } from './collector';
import { loadGcConfig } from './config';
import { DynamoGcIndex } from './dynamo-gc-index';
import { S3GcStorage } from './s3-gc-storage';

export const GC_USAGE = `Usage: gc [--dry-run] [--json] [--namespace <id>]...

Deletes blocks, packs and objects that no current file, retained version or in-flight upload
needs, and rewrites packs that are mostly garbage. Configuration comes from the metadata
service's environment (table, bucket, AWS_*) and ${GARBAGE_COLLECTION.graceEnvVar}.

  --dry-run         report what would be done, change nothing
  --json            print the report as one JSON object (for machines)
  --namespace <id>  collect only this namespace (repeatable); default: every namespace
`;

/** Streams the command writes to; a test passes its own. */
export interface GcIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * Composition root of the collector job: config, adapters, one run, the report as one structured
 * log line (stderr) and as the command's output (stdout). Answers the exit code: 0 done, 1 some
 * namespace failed or the run broke, 2 bad arguments or configuration.
 */
export async function runGc(argv: readonly string[], env: NodeJS.ProcessEnv, io: GcIo): Promise<number> {
  let flags: { 'dry-run'?: boolean; json?: boolean; help?: boolean; namespace?: string[] };
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        namespace: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    io.stderr.write(`gc: ${(error as Error).message}\n${GC_USAGE}`);
    return 2;
  }
  if (flags.help) {
    io.stdout.write(GC_USAGE);
    return 0;
  }
  let config;
  try {
    config = loadGcConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`gc: ${error.message}\n`);
    return 2;
  }
  // The log goes to stderr so that --json leaves stdout to the report alone.
  const logger = pino(
    {
      name: 'metadata-gc',
      level: config.logLevel,
      base: { service: 'metadata', job: 'gc' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: true }),
  );
  const dynamo = new DynamoDBClient(awsClientConfig(config.region));
  const documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  // Ranged reads and pack writes move up to a pack (tens of MiB): a longer timeout than RPCs use.
  const s3 = new S3Client({
    ...awsClientConfig(config.region, 120_000),
    forcePathStyle: config.s3ForcePathStyle,
  });
  const started = Date.now();
  try {
    const collector = new GarbageCollector({
      index: new DynamoGcIndex(documents, config.metadataTable),
      storage: new S3GcStorage(s3, config.blocksBucket),
      clock: { now: () => Date.now() },
      graceMs: config.graceSeconds * 1000,
      rewriteBelowLiveFraction: GARBAGE_COLLECTION.rewriteBelowLiveFraction,
      packTargetBytes: LIMITS.packTargetBytes,
      dryRun: flags['dry-run'] ?? false,
      onError: (namespaceId, error) =>
        logger.error({ err: error, namespaceId }, 'garbage collection of a namespace failed'),
    });
    const report = await collector.run(flags.namespace);
    const durationMs = Date.now() - started;
    logger.info({ report, durationMs, graceSeconds: config.graceSeconds }, 'garbage collection finished');
    io.stdout.write(
      flags.json ? `${JSON.stringify({ ...report, durationMs })}\n` : describe(report, durationMs),
    );
    return report.errors.length > 0 ? 1 : 0;
  } catch (error) {
    logger.error({ err: error }, 'garbage collection failed');
    io.stderr.write(`gc: failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    documents.destroy();
    dynamo.destroy();
    s3.destroy();
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

/** The report for people. */
export function describe(report: GcReport, durationMs: number): string {
  const lines = [
    `garbage collection ${report.dryRun ? '(dry run: nothing changed) ' : ''}of ${report.namespaces} namespace(s) in ${(durationMs / 1000).toFixed(1)} s`,
    `  blocks:      ${report.blocksCondemned} condemned, ${report.blocksRevived} revived, ${report.blocksDeleted} deleted`,
    `  packs:       ${report.packsDeleted} deleted, ${report.packsRewritten} rewritten into ${report.packsWritten} (${report.blocksMoved} blocks, ${mib(report.bytesRewritten)} moved)`,
    `  block lists: ${report.blockListsCondemned} condemned, ${report.blockListsRevived} revived, ${report.blockListsDeleted} deleted`,
    `  orphans:     ${report.orphanPacksDeleted} pack objects, ${report.orphanBlocksDeleted} block objects deleted`,
    `  freed:       ${mib(report.bytesFreed)} (${report.bytesFreed} bytes)`,
    ...report.errors.map((error) => `  FAILED ${error.namespaceId}: ${error.message}`),
  ];
  return `${lines.join('\n')}\n`;
}
