import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

export interface RuntimeProcessOptions {
  /** Module to run, from the project root (`bin/local.ts`, or the chaos run's own entry). */
  readonly entry: string;
  readonly args?: readonly string[];
  readonly port: number;
  readonly env?: Record<string, string>;
  /** Called with every line the process prints (stdout and stderr). */
  readonly onLine?: (line: string) => void;
  /** A line the process prints once it is ready; without it, ready means `/health` answers. */
  readonly readyLine?: RegExp;
}

export interface RuntimeProcess {
  readonly url: string;
  /** Every line printed so far. */
  readonly lines: readonly string[];
  /** Resolves once it is ready (see `readyLine`); rejects if the process exits first or `timeoutMs` passes. */
  ready(timeoutMs?: number): Promise<void>;
  /**
   * SIGKILL to the whole process group: the runtime and the DynamoDB Local it started die at
   * the same instant, with no chance to flush or stop anything, as when a machine loses power.
   */
  crash(): Promise<void>;
  /** SIGTERM, the runtime's own orderly stop. */
  stop(): Promise<void>;
}

/**
 * Starts the local runtime as a process of its own, in a new process group so that a crash can
 * take its DynamoDB Local down with it.
 */
export function startRuntimeProcess(options: RuntimeProcessOptions): RuntimeProcess {
  const child: ChildProcess = spawn(TSX, [options.entry, ...(options.args ?? [])], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(options.port), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        options.onLine?.(line);
      }
    });
  }
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const url = `http://127.0.0.1:${options.port}`;
  const alive = () => child.exitCode === null && child.signalCode === null;

  const signalGroup = async (signal: NodeJS.Signals) => {
    if (!alive() || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
    await exited;
  };

  return {
    url,
    lines,
    async ready(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (!alive()) throw new Error(`The runtime exited before it was ready:\n${lines.slice(-20).join('\n')}`);
        if (options.readyLine) {
          if (lines.some((line) => options.readyLine!.test(line))) return;
        } else {
          try {
            const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
            if (response.ok) return;
          } catch {
            // Not listening yet.
          }
        }
        await sleep(200);
      }
      throw new Error(`The runtime was not ready within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`);
    },
    async crash() {
      await signalGroup('SIGKILL');
    },
    async stop() {
      if (!alive()) return;
      const timer = setTimeout(() => void signalGroup('SIGKILL'), 15_000);
      await signalGroup('SIGTERM');
      clearTimeout(timer);
    },
  };
}
