import { parseArgs } from 'node:util';
import { quantile, runFleet, SCENARIOS, type RunOptions, type ScenarioName } from './fleet';

/**
 * `npm run sim:fleet -- --scenario <name> [--seed S] [--no-fairness]`: one scenario of the fleet
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
      scale: { type: 'string', default: '0.1' },
      'traffic-seconds': { type: 'string' },
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
    fault: scenario !== 'baseline',
    scale,
    ...(values['traffic-seconds'] ? { trafficSeconds: Number(values['traffic-seconds']) } : {}),
  };
  const started = Date.now();
  const run = await runFleet(options);
  const baseline = options.fault ? await runFleet({ ...options, fault: false }) : run;
  const p50 = quantile(run.healthyLatencies, 0.5);
  const p99 = quantile(run.healthyLatencies, 0.99);
  const baselineP99 = quantile(baseline.healthyLatencies, 0.99);
  console.log(
    `scenario=${scenario} requests=${run.requests} lost=${run.lost} duplicates=${run.duplicates} ` +
      `healthy_p50=${p50.toFixed(2)}s healthy_p99=${p99.toFixed(2)}s baseline_p99=${baselineP99.toFixed(2)}s ` +
      `ratio=${(p99 / baselineP99).toFixed(2)} worker_seconds_on_bad_endpoint=${Math.round(run.workerSecondsOnBad)}`,
  );
  console.error(
    `(scale ${scale}, fairness ${options.fairness ? 'on' : 'off'}, breaker ${options.breaker ? 'on' : 'off'}, seed ${seed}; ` +
      `${run.deadLettered} dead-lettered; ${Math.round(run.simulatedSeconds)} s simulated; ${((Date.now() - started) / 1000).toFixed(1)} s real)`,
  );
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
