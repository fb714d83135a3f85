/**
 * What every browser test shares: Debian's Chromium driven by playwright-core
 * (skipped, saying how to install one, when the machine has none), numbered
 * screenshots under test-artifacts/, and signing in through Behalf's pages.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

if (!executablePath) {
  console.warn('browser tests skipped: no Chromium found; install it with `apt-get install chromium` or set CHROMIUM_PATH');
}

/** `describe`, or `describe.skip` when this machine has no browser to drive (the reason is printed above). */
export const inBrowser = executablePath ? describe : describe.skip;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath, args: ARGS });
}

/** A screenshot folder under test-artifacts/; `snap` numbers the shots in the order they are taken. */
export function screenshots(folder: string) {
  const dir = join(process.cwd(), 'test-artifacts', folder);
  mkdirSync(dir, { recursive: true });
  let shot = 0;
  return {
    dir,
    async snap(page: Page, name: string): Promise<void> {
      shot += 1;
      await page.screenshot({ path: join(dir, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
    },
  };
}

export async function signInAtBehalf(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A new page signed in to the portal through Behalf's sign-in page. */
export async function portalAs(context: BrowserContext, portalUrl: string, email: string, password: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${portalUrl}/`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await signInAtBehalf(page, email, password);
  await page.waitForURL(`${portalUrl}/**`);
  return page;
}

/** The portal's contact page of a person, found by the directory search as an agent would. */
export async function openContact(page: Page, portalUrl: string, name: string): Promise<void> {
  await page.goto(`${portalUrl}/contacts`);
  await page.getByLabel('Name, email or phone').fill(name.split(' ')[0]!);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name }).click();
  await page.getByRole('heading', { name }).waitFor();
}
