import { MAIL_SENDER, RETENTION } from '@filesync/resources';

/**
 * Deployment settings, read from CDK context (`cdk synth -c filesync:imageTag=abc123`) with
 * defaults that synthesize offline: nothing here triggers an account or AZ lookup.
 */
export interface DeployConfig {
  /** Tag of the four service images in the stack's ECR repositories. */
  readonly imageTag: string;
  /** ACM certificate for TLS listeners; without it the listeners are plain TCP. */
  readonly certificateArn: string | undefined;
  /** Sender address of notification mail. */
  readonly mailFrom: string;
  /** SES identity to verify: a domain, or an email address (the default is the sender address). */
  readonly mailIdentity: string;
  /** Fixed availability zones; empty = the first two of the region, resolved by CloudFormation. */
  readonly availabilityZones: readonly string[];
  readonly natGateways: number;
  readonly instanceType: string;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Tasks per service when idle, and the most auto scaling may start. */
  readonly minTasks: number;
  readonly maxTasks: number;
  /** SNS topic that alarms notify, when given. */
  readonly alarmTopicArn: string | undefined;
  readonly logRetentionDays: number;
  /** Days old versions and deleted files stay restorable (metadata's FILESYNC_RETENTION_DAYS); 0 allowed. */
  readonly retentionDays: number;
}

export const CONTEXT_PREFIX = 'filesync:';

export const DEFAULT_CONFIG: DeployConfig = {
  imageTag: 'latest',
  certificateArn: undefined,
  mailFrom: MAIL_SENDER.defaultAddress,
  mailIdentity: MAIL_SENDER.defaultAddress,
  availabilityZones: [],
  natGateways: 1,
  // Burstable and small: the services idle at a few percent CPU. Each t3.small takes two awsvpc tasks
  // (three ENIs, one for the host), so two instances hold the four idle services.
  instanceType: 't3.small',
  minInstances: 2,
  maxInstances: 8,
  minTasks: 1,
  maxTasks: 6,
  alarmTopicArn: undefined,
  logRetentionDays: 30,
  retentionDays: RETENTION.defaultDays,
};

type ContextReader = (key: string) => unknown;

/** Builds the config from context values; throws one message naming every bad key. */
export function readDeployConfig(read: ContextReader): DeployConfig {
  const problems: string[] = [];
  const get = (name: keyof DeployConfig) => read(`${CONTEXT_PREFIX}${name}`);

  const text = (name: keyof DeployConfig, fallback: string | undefined) => {
    const value = get(name);
    if (value === undefined || value === '') return fallback;
    if (typeof value !== 'string') {
      problems.push(`${CONTEXT_PREFIX}${name} must be a string`);
      return fallback;
    }
    return value;
  };
  const count = (name: keyof DeployConfig, fallback: number, min: number) => {
    const value = get(name);
    if (value === undefined || value === '') return fallback;
    const parsed = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(parsed) || parsed < min) {
      problems.push(`${CONTEXT_PREFIX}${name} must be an integer >= ${min}`);
      return fallback;
    }
    return parsed;
  };
  const list = (name: keyof DeployConfig) => {
    const value = get(name);
    if (value === undefined || value === '') return [];
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
    if (typeof value === 'string') return value.split(',').map((item) => item.trim());
    problems.push(`${CONTEXT_PREFIX}${name} must be a list of zone names`);
    return [];
  };

  const mailFrom = text('mailFrom', DEFAULT_CONFIG.mailFrom) ?? DEFAULT_CONFIG.mailFrom;
  const config: DeployConfig = {
    imageTag: text('imageTag', DEFAULT_CONFIG.imageTag) ?? DEFAULT_CONFIG.imageTag,
    certificateArn: text('certificateArn', undefined),
    mailFrom,
    mailIdentity: text('mailIdentity', mailFrom) ?? mailFrom,
    availabilityZones: list('availabilityZones'),
    natGateways: count('natGateways', DEFAULT_CONFIG.natGateways, 1),
    instanceType: text('instanceType', DEFAULT_CONFIG.instanceType) ?? DEFAULT_CONFIG.instanceType,
    minInstances: count('minInstances', DEFAULT_CONFIG.minInstances, 1),
    maxInstances: count('maxInstances', DEFAULT_CONFIG.maxInstances, 1),
    minTasks: count('minTasks', DEFAULT_CONFIG.minTasks, 1),
    maxTasks: count('maxTasks', DEFAULT_CONFIG.maxTasks, 1),
    alarmTopicArn: text('alarmTopicArn', undefined),
    logRetentionDays: count('logRetentionDays', DEFAULT_CONFIG.logRetentionDays, 1),
    retentionDays: count('retentionDays', DEFAULT_CONFIG.retentionDays, 0),
  };
  if (config.availabilityZones.length !== 0 && config.availabilityZones.length !== 2) {
    problems.push(`${CONTEXT_PREFIX}availabilityZones must name exactly two zones`);
  }
  if (config.maxInstances < config.minInstances) {
    problems.push(`${CONTEXT_PREFIX}maxInstances must be >= minInstances`);
  }
  if (config.maxTasks < config.minTasks) problems.push(`${CONTEXT_PREFIX}maxTasks must be >= minTasks`);
  if (problems.length > 0) throw new Error(`Invalid deploy context: ${problems.join('; ')}`);
  return config;
}
