export default async function globalTeardown(): Promise<void> {
  const running = ((globalThis as Record<string, unknown>).__heraldEndpoints ?? []) as { stop(): Promise<void> }[];
  await Promise.all(running.map((endpoint) => endpoint.stop()));
}
