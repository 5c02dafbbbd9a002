import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
const EMULATOR_DIR = join(PROJECT_ROOT, '.dynamodb-local');
/** Runs DynamoDB Local with its connector bound to 127.0.0.1 (the emulator itself offers no such option). */
const LOOPBACK_LAUNCHER = join(__dirname, 'DynamoDbLocalOnLoopback.java');

/** Raised when the local runtime cannot start; its message is meant for a terminal, not a stack trace. */
export class LocalSetupError extends Error {}

export interface DynamoDbLocal {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local (AWS's own emulator, a Java program) as a child process on a free
 * port of 127.0.0.1 and nowhere else, in memory or in `dataDir`, and resolves once it answers.
 * It has no authentication, so it must not be reachable from the network: its own main class
 * listens on every interface, and the launcher beside this file binds it to loopback instead.
 * `-sharedDb` makes the data independent of the credentials and region a client uses.
 */
export async function startDynamoDbLocal(options: { dataDir?: string; heapMb?: number } = {}): Promise<DynamoDbLocal> {
  assertJava();
  const jar = join(EMULATOR_DIR, 'DynamoDBLocal.jar');
  if (!existsSync(jar)) {
    throw new LocalSetupError('DynamoDB Local is missing: run `npm ci` (or `node scripts/fetch-dynamodb-local.mjs`) to fetch it');
  }
  const port = await freePort();
  const storage = options.dataDir ? ['-dbPath', ensureDir(options.dataDir)] : ['-inMemory'];
  const child = spawn(
    'java',
    [
      `-Xmx${options.heapMb ?? 256}m`,
      `-Djava.library.path=${join(EMULATOR_DIR, 'DynamoDBLocal_lib')}`,
      '-cp',
      jar,
      LOOPBACK_LAUNCHER,
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
      ...storage,
    ],
    { cwd: EMULATOR_DIR, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilListening(endpoint, child, () => stderr);
  return {
    endpoint,
    stop: () => stopChild(child),
  };
}

/** The launcher is a single-file source program, which needs a JDK's compiler module, not a runtime alone. */
function assertJava(): void {
  const probe = spawnSync('java', ['--list-modules'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new LocalSetupError(
      'A Java 17+ JDK is required for DynamoDB Local and was not found; install it with: sudo apt-get install -y openjdk-17-jdk-headless',
    );
  }
  if (!/^jdk\.compiler@/m.test(probe.stdout)) {
    throw new LocalSetupError(
      'DynamoDB Local is started by a Java source launcher, which needs a JDK (a Java runtime alone has no compiler); install it with: sudo apt-get install -y openjdk-17-jdk-headless',
    );
  }
}

function ensureDir(dir: string): string {
  const absolute = resolve(dir);
  mkdirSync(absolute, { recursive: true });
  return absolute;
}

async function waitUntilListening(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new LocalSetupError(`DynamoDB Local exited with code ${child.exitCode}: ${stderr()}`);
    try {
      // Any HTTP answer (400 for a bare GET) means the server is up.
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(150);
    }
  }
  child.kill('SIGKILL');
  throw new LocalSetupError(`DynamoDB Local did not start within 60 s: ${stderr()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
