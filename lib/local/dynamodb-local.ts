import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { restartablePort } from './free-port';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
const EMULATOR_DIR = join(PROJECT_ROOT, '.dynamodb-local');
/** Runs DynamoDB Local with its connector bound to 127.0.0.1 (the emulator itself offers no such option). */
const LOOPBACK_LAUNCHER = join(__dirname, 'DynamoDbLocalOnLoopback.java');
const LAUNCHER_CLASS = 'DynamoDbLocalOnLoopback';
/** Start-up takes 3–6 s on a quiet machine; on a loaded one (tests in parallel) far longer. */
const START_TIMEOUT_MS = 120_000;
/** The launcher is compiled on this machine, so a Java runtime alone (no javac) is not enough. */
const INSTALL_JDK = 'install a JDK with: sudo apt-get install -y openjdk-17-jdk-headless';

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
  const launcher = await compiledLauncher(jar);
  // Bound by a process that takes a second or two to start: a port no outgoing connection can take meanwhile.
  const port = await restartablePort();
  const storage = options.dataDir ? ['-dbPath', ensureDir(options.dataDir)] : ['-inMemory'];
  const child = spawn(
    'java',
    [
      `-Xmx${options.heapMb ?? 256}m`,
      `-Djava.library.path=${join(EMULATOR_DIR, 'DynamoDBLocal_lib')}`,
      '-cp',
      `${jar}${delimiter}${launcher}`,
      LAUNCHER_CLASS,
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

function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new LocalSetupError(`Java 17+ is required for DynamoDB Local and was not found; ${INSTALL_JDK}`);
  }
}

/**
 * The launcher's class folder, compiled once per version of its source and of the emulator into
 * the emulator's (ignored) folder: compiling on every start (`java <file>.java`) would add seconds
 * to each one. Compiled beside its final place and renamed, so that two starts at once (tests and
 * `npm start`) never run a half-written class.
 */
async function compiledLauncher(jar: string): Promise<string> {
  const version = createHash('sha256').update(readFileSync(LOOPBACK_LAUNCHER)).update(String(statSync(jar).size)).digest('hex').slice(0, 16);
  const folder = join(EMULATOR_DIR, 'launcher', version);
  if (existsSync(join(folder, `${LAUNCHER_CLASS}.class`))) return folder;
  const staging = `${folder}.${process.pid}.tmp`;
  mkdirSync(staging, { recursive: true });
  try {
    await promisify(execFile)('javac', ['-nowarn', '-cp', jar, '-d', staging, LOOPBACK_LAUNCHER]);
    renameSync(staging, folder);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another start compiled it first: its folder is as good as ours.
    if (existsSync(join(folder, `${LAUNCHER_CLASS}.class`))) return folder;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new LocalSetupError(`DynamoDB Local is started through a small Java launcher that needs javac, which was not found; ${INSTALL_JDK}`);
    }
    throw new LocalSetupError(`Compiling the DynamoDB Local launcher failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
  return folder;
}

function ensureDir(dir: string): string {
  const absolute = resolve(dir);
  mkdirSync(absolute, { recursive: true });
  return absolute;
}

async function waitUntilListening(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
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
  throw new LocalSetupError(`DynamoDB Local did not start within ${START_TIMEOUT_MS / 1000} s: ${stderr()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
