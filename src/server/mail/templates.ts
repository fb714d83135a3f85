/**
 * Mail templates (Eta): for each mail a subject, a plain-text and an HTML body,
 * per locale (`templates/<locale>/<name>.{subject,text,html}.eta`; only `en`
 * exists so far, and any other locale falls back to it). The HTML is
 * auto-escaped and wrapped in `layout.html.eta`; text and subject are not
 * HTML, so they are not escaped, and the subject is one line.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta';
import { projectRoot } from '../../../config/load.js';
import type { RenderedMail } from './transport.js';

/** Every mail Behalf sends, and the data each one needs. */
export interface MailTemplateData {
  password_reset: { name: string; storeName: string; link: string; minutes: number };
  email_verification: { name: string; storeName: string; link: string };
  approval_request: {
    name: string;
    storeName: string;
    agentName: string;
    reason: string;
    ticket: string | null;
    link: string;
    expiresAt: string;
  };
  session_summary: {
    name: string;
    storeName: string;
    agentName: string;
    reason: string;
    ticket: string | null;
    startedAt: string;
    endedAt: string;
    endedHow: string;
    historyLink: string;
    reportLink: string;
  };
  test: { name: string; note: string };
}

export type MailTemplateName = keyof MailTemplateData;
export const MAIL_TEMPLATES: readonly MailTemplateName[] = [
  'password_reset',
  'email_verification',
  'approval_request',
  'session_summary',
  'test',
];

const DEFAULT_LOCALE = 'en';

export class MailTemplates {
  private readonly html: Eta;
  private readonly plain: Eta;
  private readonly dir: string;

  constructor(cache = true) {
    this.dir = join(projectRoot(), 'src', 'server', 'mail', 'templates');
    this.html = new Eta({ views: this.dir, autoEscape: true, cache, autoTrim: false });
    this.plain = new Eta({ views: this.dir, autoEscape: false, cache, autoTrim: false });
  }

  private locale(locale: string): string {
    return /^[a-z]{2}(-[A-Z]{2})?$/.test(locale) && existsSync(join(this.dir, locale)) ? locale : DEFAULT_LOCALE;
  }

  render<T extends MailTemplateName>(template: T, data: MailTemplateData[T], locale = DEFAULT_LOCALE): RenderedMail {
    const at = this.locale(locale);
    const subject = this.plain
      .render(`${at}/${template}.subject.eta`, data)
      .replace(/[\r\n]+/g, ' ')
      .trim();
    const body = this.html.render(`${at}/${template}.html.eta`, data);
    return {
      subject,
      text: this.plain.render(`${at}/${template}.text.eta`, data),
      html: this.html.render(`${at}/layout.html.eta`, { subject, body }),
    };
  }
}
