/**
 * Headless Chromium for the view's tests and bench: Debian's /usr/bin/chromium driven by
 * playwright-core (no browser is ever downloaded), launched with the flags and a fresh
 * --user-data-dir in a temp folder that close() removes. Every request that is not file:// or
 * the given local origin is recorded and refused, so a test can assert the page asked for none.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { missing } from './oracle.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  /** URLs the pages tried to reach beyond file:// and the allowed origins. */
  refused: string[];
  /** Allows http://127.0.0.1:PORT/ (synack view's own server). */
  allow(origin: string): void;
  close(): Promise<void>;
}

/** Why the browser tests cannot run here (undefined: they can); in CI a missing piece throws. */
export async function browserMissing(): Promise<string | undefined> {
  if (!existsSync(CHROMIUM)) return missing('chromium is not installed (apt-get install -y chromium)');
  try {
    await import('playwright-core');
  } catch {
    return missing('playwright-core is not installed (npm ci)');
  }
  return undefined;
}

export async function launchBrowser(viewport = { width: 1500, height: 900 }): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'synack-view-profile-'));
  const allowed: string[] = [];
  const refused: string[] = [];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport,
      timezoneId: 'UTC',
      env: { ...process.env, TZ: 'UTC' },
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file://') || allowed.some((o) => url.startsWith(o))) return route.continue();
    refused.push(url);
    return route.abort();
  });
  return {
    context,
    refused,
    allow: (origin) => allowed.push(origin),
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
