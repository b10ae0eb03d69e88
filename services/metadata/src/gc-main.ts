import { runGc } from './gc/run';

// The garbage collector job: the metadata service's image runs it on a schedule (deploy/), and
// `npm run gc` runs it against the local stack. One run, then exit with its code.
runGc(process.argv.slice(2), process.env, process).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `gc: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
