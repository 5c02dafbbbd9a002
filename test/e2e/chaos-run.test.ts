import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

// The chaos run end to end, small: its own runtime process killed three times, receivers that
// misbehave, the queue refusing submits. The full-size run is `npm run chaos`.
jest.setTimeout(600_000);

const PROJECT_ROOT = resolve(__dirname, '..', '..');

function chaosRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['bench/chaos/run.ts', ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('npm run chaos', () => {
  it('loses nothing, acts once and delivers every event through three crashes and every fault, and says so in one line', async () => {
    const run = await chaosRun(['--requests', '30', '--seed', '5']);

    const lines = run.stdout.trim().split('\n');
    // On a failed run the broken invariants (or the run's own error) are in the assertion's diff.
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-4_000) }).toEqual({ code: 0, stderr: '' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^requests=30 lost=0 double_effects=0 undelivered=0 duplicates=\d+ dlq=\d+ elapsed=\d+s$/);
  });
});
