import { createdClients } from '../../lambdas/adapters/aws-clients';

type Next = (args: unknown) => Promise<unknown>;

/**
 * Counts every HTTP call the handlers' own SDK clients make, by `service:Command`. The middleware
 * sits inside the retry loop, so a retried call counts twice: the figure is what AWS would bill.
 */
export function countAwsCalls(): Map<string, number> {
  const calls = new Map<string, number>();
  for (const [service, client] of Object.entries(createdClients())) {
    // The clients' stacks differ in their types only; the middleware reads nothing service-specific.
    const stack = client.middlewareStack as unknown as { add(middleware: unknown, options: object): void };
    stack.add(
      (next: Next, context: { commandName?: string }) => async (args: unknown) => {
        const name = `${service}:${context.commandName ?? 'unknown'}`;
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'heraldBenchCallCounter' },
    );
  }
  return calls;
}
