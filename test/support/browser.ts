import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's `chromium`, found at CHROMIUM_PATH, /usr/bin/chromium or on the PATH (`.ci/run`
 * installs it when missing, as it does Java).
 */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].filter((path): path is string => Boolean(path));
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('No chromium found: install Debian\'s chromium package (.ci/run does) or set CHROMIUM_PATH');
  }
}

/**
 * A headless Chromium that never reaches for the network on its own (it stalls on a closed one
 * otherwise); `extraArgs` are added to its command line (e.g. `--host-resolver-rules`).
 */
export function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
