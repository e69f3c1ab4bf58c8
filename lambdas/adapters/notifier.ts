import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ENV } from '../contracts/env.js';
import { withTransientErrors } from './transient-errors.js';

export interface EmailMessage {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

/** Sends email: SES on AWS, `.eml` files in an outbox folder on the embedded default. */
export interface Mailer {
  send(message: EmailMessage): Promise<{ id: string; location?: string }>;
}

/** Publishes an alert: SNS on AWS, an `.eml` in the outbox locally. */
export interface AlertPublisher {
  publish(alert: { subject: string; message: string }): Promise<{ id: string; location?: string }>;
}

export class SesMailer implements Mailer {
  constructor(
    private readonly ses: SESv2Client,
    private readonly from: string,
  ) {}
  async send(m: EmailMessage): Promise<{ id: string }> {
    const out = await this.ses.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [...m.to] },
        Content: {
          Simple: {
            Subject: { Data: m.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: m.text, Charset: 'UTF-8' },
              ...(m.html ? { Html: { Data: m.html, Charset: 'UTF-8' } } : {}),
            },
          },
        },
      }),
    );
    return { id: out.MessageId ?? '' };
  }
}

/** Writes RFC 5322 messages (multipart/alternative when there is HTML) a mail client can open. */
export class OutboxMailer implements Mailer {
  constructor(
    private readonly dir: string,
    private readonly from: string,
  ) {}
  async send(m: EmailMessage): Promise<{ id: string; location: string }> {
    mkdirSync(this.dir, { recursive: true });
    const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
    const boundary = `mlcycle-${id}`;
    const headers = [
      `From: ${this.from}`,
      `To: ${m.to.join(', ')}`,
      `Subject: ${m.subject}`,
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <${id}@mlcycle.local>`,
      'MIME-Version: 1.0',
    ];
    const body = m.html
      ? [
          `Content-Type: multipart/alternative; boundary="${boundary}"`,
          '',
          `--${boundary}`,
          'Content-Type: text/plain; charset=utf-8',
          '',
          m.text,
          `--${boundary}`,
          'Content-Type: text/html; charset=utf-8',
          '',
          m.html,
          `--${boundary}--`,
          '',
        ]
      : ['Content-Type: text/plain; charset=utf-8', '', m.text, ''];
    const slug = (m.to[0] ?? 'nobody').replace(/[^a-zA-Z0-9.@-]/g, '_');
    const location = join(this.dir, `${id}-${slug}.eml`);
    writeFileSync(location, [...headers, ...body].join('\r\n'));
    return { id, location };
  }
}

export class SnsAlertPublisher implements AlertPublisher {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}
  async publish(a: { subject: string; message: string }): Promise<{ id: string }> {
    // SNS subjects are limited to 100 ASCII characters.
    const subject = a.subject.replace(/[^\x20-\x7e]/g, '').slice(0, 100);
    const out = await this.sns.send(
      new PublishCommand({ TopicArn: this.topicArn, Subject: subject, Message: a.message }),
    );
    return { id: out.MessageId ?? '' };
  }
}

export class OutboxAlertPublisher implements AlertPublisher {
  constructor(private readonly mailer: OutboxMailer) {}
  publish(a: { subject: string; message: string }) {
    return this.mailer.send({ to: ['alerts@mlcycle.local'], subject: a.subject, text: a.message });
  }
}

/** Picks the outbox when MLCYCLE_OUTBOX_DIR is set (embedded default), SES otherwise. */
export function mailerFromEnv(env: NodeJS.ProcessEnv = process.env): Mailer {
  const from = env[ENV.emailSender] ?? 'mlcycle@example.com';
  const outbox = env[ENV.outboxDir];
  return outbox
    ? new OutboxMailer(outbox, from)
    : new SesMailer(withTransientErrors(new SESv2Client({})), from);
}

export function alertPublisherFromEnv(env: NodeJS.ProcessEnv = process.env): AlertPublisher {
  const outbox = env[ENV.outboxDir];
  if (outbox)
    return new OutboxAlertPublisher(new OutboxMailer(outbox, env[ENV.emailSender] ?? 'mlcycle@local'));
  const topic = env[ENV.alertTopicArn];
  if (!topic) throw new Error(`${ENV.alertTopicArn} is not set: alerts need an SNS topic`);
  return new SnsAlertPublisher(withTransientErrors(new SNSClient({})), topic);
}
