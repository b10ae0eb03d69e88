import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { FilesyncClient } from '@filesync/sync-client';
import { grpcCode } from '@filesync/contracts';
import { status } from '@grpc/grpc-js';
import { mailTo, TEST_PASSWORD, uniqueEmail, verificationCode, waitForMail } from '@filesync/test-support';
import { repoRootOf } from '@filesync/test-support/runner';
import { readTestStack } from './support/harness';
import { tempDir, treeDigest, writeTree } from './support/trees';

// Real services and emulators: calls take seconds, not the unit tier's milliseconds.

const stack = readTestStack();
const run = promisify(execFile);

/** The `filesync` CLI as a user runs it, against the test stack. */
function filesync(home: string, ...args: string[]) {
  return run(
    join(repoRootOf(), 'node_modules/.bin/filesync'),
    ['--server', stack.server, '--home', home, ...args],
    {
      env: { ...process.env, FILESYNC_PASSWORD: TEST_PASSWORD },
    },
  );
}

describe('kind 15: mail goes only to verified addresses', () => {
  test('sign up, read the code, `filesync verify CODE`, follow, get mail; before that: syncs, no follow, no mail', async () => {
    const email = uniqueEmail('verify');
    const home = tempDir('verify-home');
    const dir = tempDir('verify');
    const otherDir = tempDir('verify-other');
    let client = await FilesyncClient.open({ home, server: stack.server });
    try {
      await client.signup(email, TEST_PASSWORD, 'laptop');
      const code = await verificationCode(stack.emulators.ses, email);

      // Unverified: syncs both ways like any account...
      writeTree(dir, { 'notes/first.txt': 'written before verifying\n' });
      await client.sync(dir);
      // A second device (one device binds one folder to the root, see folder-bindings).
      const other = await FilesyncClient.open({ home: tempDir('verify-other-home'), server: stack.server });
      try {
        await other.login(email, TEST_PASSWORD, 'desktop');
        await other.sync(otherDir);
      } finally {
        await other.close();
      }
      expect(treeDigest(otherDir)).toEqual(treeDigest(dir));
      // ...but cannot follow, and says how to fix it.
      const refused = await client.follow('notes').then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(refused && grpcCode(refused)).toBe(status.FAILED_PRECONDITION);
      expect(refused?.message).toMatch(/verify your email first: filesync verify CODE/);
      await client.close();

      // A wrong code is refused with a clear message and a non-zero exit.
      const wrong = code === '000000' ? '000001' : '000000';
      await expect(filesync(home, 'verify', wrong)).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/code is wrong/),
      });
      const verified = await filesync(home, 'verify', code);
      expect(verified.stdout).toMatch(/Email address verified/);

      client = await FilesyncClient.open({ home, server: stack.server });
      await client.follow('notes');
      writeTree(dir, { 'notes/second.txt': 'after verifying\n' });
      await client.sync(dir);
      const [mail] = await waitForMail(stack.emulators.ses, email, { timeoutMs: 20_000 });
      expect(`${mail?.subject} ${mail?.body.text ?? ''}`).toContain('notes/second.txt');
    } finally {
      await client.close();
      for (const path of [home, dir, otherDir]) rmSync(path, { recursive: true, force: true });
    }
  });

  test('a device signed in before the address was verified on another one can follow at once', async () => {
    const email = uniqueEmail('verify-two');
    const homes = { laptop: tempDir('verify-laptop'), desktop: tempDir('verify-desktop') };
    const laptop = await FilesyncClient.open({ home: homes.laptop, server: stack.server });
    const desktop = await FilesyncClient.open({ home: homes.desktop, server: stack.server });
    try {
      await laptop.signup(email, TEST_PASSWORD, 'laptop');
      // The desktop's access token is minted now, before the verification: it says unverified.
      await desktop.login(email, TEST_PASSWORD, 'desktop');
      await laptop.verifyEmail(await verificationCode(stack.emulators.ses, email));
      await expect(desktop.follow('')).resolves.toBeUndefined();
    } finally {
      await laptop.close();
      await desktop.close();
      for (const path of Object.values(homes)) rmSync(path, { recursive: true, force: true });
    }
  });

  test('an event already queued for an unverified address mails nobody there, while a verified recipient gets it', async () => {
    const sqs = new SQSClient({
      region: stack.resources.region,
      endpoint: stack.emulators.moto,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const namespaceId = randomUUID();
    const verified = {
      userId: randomUUID(),
      email: uniqueEmail('queued-ok'),
      emailVerified: true,
      paths: ['a.txt'],
    };
    const unmarked = { userId: randomUUID(), email: uniqueEmail('queued-old'), paths: ['a.txt'] };
    const unverified = {
      ...unmarked,
      userId: randomUUID(),
      email: uniqueEmail('queued-no'),
      emailVerified: false,
    };
    const event = {
      eventId: `${namespaceId}:1`,
      namespaceId,
      seq: 1,
      committedAtMs: Date.now(),
      actor: { userId: randomUUID(), deviceId: randomUUID(), email: uniqueEmail('actor') },
      changes: [{ path: 'a.txt', version: 1, deleted: false, size: 1 }],
      recipients: [unmarked, unverified, verified],
    };
    try {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: stack.resources.queueUrl, MessageBody: JSON.stringify(event) }),
      );
      // The event has been handled once the verified recipient's mail is there.
      await waitForMail(stack.emulators.ses, verified.email, { timeoutMs: 20_000 });
      expect(await mailTo(stack.emulators.ses, unmarked.email, 'any')).toEqual([]);
      expect(await mailTo(stack.emulators.ses, unverified.email, 'any')).toEqual([]);
    } finally {
      sqs.destroy();
    }
  });
});
