import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SERVICE_NAMES, type ServiceName } from '@filesync/resources';

/** Repository name of a service image; deploy/images/build.mjs tags images the same way. */
export const imageRepositoryName = (service: ServiceName) => `filesync/${service}`;

/**
 * What must exist before the services can start: the image repositories (images are pushed
 * between the two deployments) and the auth signing key, which has to hold an Ed25519 PKCS#8 PEM
 * before the first auth task starts (README: "Deploy").
 */
export class PrerequisitesStack extends Stack {
  readonly repositories: Readonly<Record<ServiceName, ecr.Repository>>;
  readonly signingKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const repositories = {} as Record<ServiceName, ecr.Repository>;
    for (const service of SERVICE_NAMES) {
      repositories[service] = new ecr.Repository(this, `${service}Images`, {
        repositoryName: imageRepositoryName(service),
        imageScanOnPush: true,
        encryption: ecr.RepositoryEncryption.AES_256,
        lifecycleRules: [{ description: 'keep the last 20 images', maxImageCount: 20 }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      new CfnOutput(this, `${service}RepositoryUri`, { value: repositories[service].repositoryUri });
    }
    this.repositories = repositories;

    // The generated value is a placeholder: replace it with a real key (README) before deploying
    // the services. CloudFormation never sees the key itself.
    this.signingKey = new secretsmanager.Secret(this, 'SigningKey', {
      description: 'filesync auth: Ed25519 private key (PKCS#8 PEM) that signs access tokens',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new CfnOutput(this, 'SigningKeySecretArn', { value: this.signingKey.secretArn });
  }
}
