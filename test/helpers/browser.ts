import type { Browser } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium; scripts/ci-system-deps.sh). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's Chromium driven by playwright-core, headless and offline: the flags keep it from reaching any
 * network service of its own (updates, sync, QUIC probes). Tests guard it with needs(tools.chromium()); scripts
 * (scripts/screenshots.ts) use it too, so this file imports nothing of vitest.
 */
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
}
