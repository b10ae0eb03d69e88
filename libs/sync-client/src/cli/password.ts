import { createInterface } from 'node:readline';

/**
 * The password never comes from an argument (it would show in `ps` and shell history):
 * FILESYNC_PASSWORD, or standard input: a hidden prompt on a terminal, the first line otherwise.
 */
export async function readPassword(prompt = 'Password: '): Promise<string> {
  const fromEnv = process.env.FILESYNC_PASSWORD;
  if (fromEnv) return fromEnv;
  const input = process.stdin;
  if (input.isTTY) return readHidden(prompt);
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}

function readHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    const finish = (result: string | Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish(value);
        if (char === '\u0003') return finish(new Error('cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on('data', onData);
  });
}
