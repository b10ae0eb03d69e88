import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { VerificationMailer } from '../domain/ports';

/**
 * Auth mails its own verification codes through SES with its own ses:SendEmail grant: the
 * notifier is for change notifications, and routing a code through it would couple the two.
 */
export class SesVerificationMailer implements VerificationMailer {
  constructor(
    private readonly ses: SESv2Client,
    private readonly from: string,
  ) {}

  async sendVerificationCode(to: string, code: string): Promise<void> {
    await this.ses.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [to] },
        Content: {
          Simple: {
            Subject: { Data: `filesync: your verification code is ${code}`, Charset: 'UTF-8' },
            Body: {
              Text: {
                Data:
                  `Confirm this address for filesync with:\n\n    filesync verify ${code}\n\n` +
                  'The code works for 24 hours. Until then filesync syncs as usual but mails you no ' +
                  'notifications. If you did not sign up for filesync, ignore this mail.\n',
                Charset: 'UTF-8',
              },
            },
          },
        },
      }),
    );
  }
}
