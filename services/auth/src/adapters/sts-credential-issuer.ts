import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { CredentialIssuer, TemporaryCredentials } from '../domain/ports';

/** Mints storage credentials by assuming the storage role with a per-caller session policy. */
export class StsCredentialIssuer implements CredentialIssuer {
  constructor(
    private readonly sts: STSClient,
    private readonly roleArn: string,
  ) {}

  async issue(request: {
    sessionName: string;
    sessionPolicy: string;
    durationSeconds: number;
  }): Promise<TemporaryCredentials> {
    const { Credentials: credentials } = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.roleArn,
        RoleSessionName: request.sessionName,
        Policy: request.sessionPolicy,
        DurationSeconds: request.durationSeconds,
      }),
    );
    if (
      !credentials?.AccessKeyId ||
      !credentials.SecretAccessKey ||
      !credentials.SessionToken ||
      !credentials.Expiration
    ) {
      throw new Error('STS AssumeRole answered without credentials');
    }
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      expiresAtMs: credentials.Expiration.getTime(),
    };
  }
}
