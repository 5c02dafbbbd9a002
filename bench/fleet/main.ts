import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { quantile, runFleet, SCENARIOS, type RunOptions, type RunResult, type ScenarioName } from './fleet';

/**
 * `npm run sim:fleet -- --scenario <name> [--seed S] [--no-fairness] [--inline-first-attempt-ms N]`: one scenario of the fleet
 * simulation (docs/scale.md, Fleet simulation), then the same run without its fault as the
 * baseline, and one line of figures.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'baseline' },
      seed: { type: 'string', default: '1' },
      'no-fairness': { type: 'boolean', default: false },
      'no-breaker': { type: 'boolean', default: false },
      'no-slow-lane': { type: 'boolean', default: false },
      scale: { type: 'string', default: '0.05' },
      'traffic-seconds': { type: 'string' },
      // The process worker makes each delivery's first attempt itself, within this many ms.
      'inline-first-attempt-ms': { type: 'string' },
      // Where the slowest healthy deliveries spent their time, for the run and its baseline (stderr).
      trace: { type: 'boolean', default: false },
      // Internal: this process runs the fault-free baseline for its parent and reports it back.
      'baseline-for-parent': { type: 'boolean', default: false },
    },
  });
  const scenario = values.scenario as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const seed = Number(values.seed);
  const scale = Number(values.scale);
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  if (!(scale > 0 && scale <= 1)) throw new Error('--scale must be above 0 and at most 1');
  const options: RunOptions = {
    scenario,
    seed,
    fairness: !values['no-fairness'],
    breaker: !values['no-breaker'],
    slowLane: !values['no-slow-lane'],
    fault: scenario !== 'baseline',
    scale,
    ...(values['traffic-seconds'] ? { trafficSeconds: Number(values['traffic-seconds']) } : {}),
    ...(values['inline-first-attempt-ms'] ? { inlineFirstAttemptMs: Number(values['inline-first-attempt-ms']) } : {}),
  };
  if (values['baseline-for-parent']) {
    process.send!(await runFleet({ ...options, fault: false }));
    return;
  }
  const started = Date.now();
  // The baseline runs in a second process beside the faulty run: the two use both cores.
  const baselineRun = options.fault ? baselineInChild() : undefined;
  const run = await runFleet(options);
  const baseline = baselineRun ? await baselineRun : run;
  const p50 = quantile(run.healthyLatencies, 0.5);
  const p99 = quantile(run.healthyLatencies, 0.99);
  const baselineP99 = quantile(baseline.healthyLatencies, 0.99);
  console.log(
    `scenario=${scenario} requests=${run.requests} lost=${run.lost} duplicates=${run.duplicates} ` +
      `healthy_p50=${p50.toFixed(2)}s healthy_p99=${p99.toFixed(2)}s baseline_p99=${baselineP99.toFixed(2)}s ` +
      `ratio=${(p99 / baselineP99).toFixed(2)} worker_seconds_on_bad_endpoint=${Math.round(run.workerSecondsOnBad)}`,
  );
  console.error(
    `(scale ${scale}, fairness ${options.fairness ? 'on' : 'off'}, breaker ${options.breaker ? 'on' : 'off'}, slow lane ${options.slowLane ? 'on' : 'off'}, seed ${seed}; ` +
      `${run.deadLettered} dead-lettered; ${Math.round(run.simulatedSeconds)} s simulated; ${((Date.now() - started) / 1000).toFixed(1)} s real)`,
  );
  if (values.trace) {
    console.error(`run: ${run.slowestHealthy}`);
    if (baselineRun) console.error(`baseline: ${baseline.slowestHealthy}`);
  }
}

function baselineInChild(): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1]!, [...process.argv.slice(2), '--baseline-for-parent'], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (result) => resolve(result as RunResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`the baseline run exited with ${code}`)));
  });
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
