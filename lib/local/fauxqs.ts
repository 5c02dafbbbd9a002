type FauxqsModule = typeof import('fauxqs');
// fauxqs is ESM-only and exports no `require` entry, so it must be loaded with a real import();
// hiding it in a Function keeps CommonJS transpilers (ts-jest) from rewriting it into require().
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<FauxqsModule>;

const LOOPBACK = '127.0.0.1';

export interface EmbeddedSqsSns {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs (SQS and SNS APIs, in memory, no authentication) inside this process on a free
 * port of 127.0.0.1 and nowhere else. Its `startFauxqs` listens on 0.0.0.0 whatever host it is
 * given, so the runtime builds its app and listens itself. It is loaded on demand, so callers
 * that never start it (tests given running endpoints) never load it.
 */
export async function startFauxqs(): Promise<EmbeddedSqsSns> {
  const { buildApp } = await importEsm('fauxqs');
  // `host` shapes the queue URLs it hands out, as startFauxqs would with the same option.
  const app = buildApp({ logger: false, host: LOOPBACK });
  // Port 0: the OS picks it in the same call that binds it, so nothing can take it in between.
  await app.listen({ port: 0, host: LOOPBACK });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('fauxqs did not report the port it listens on');
  return { endpoint: `http://${LOOPBACK}:${address.port}`, stop: async () => void (await app.close()) };
}
