import { freePort } from './free-port';

type FauxqsModule = typeof import('fauxqs');
// fauxqs is ESM-only and exports no `require` entry, so it must be loaded with a real import();
// hiding it in a Function keeps CommonJS transpilers (ts-jest) from rewriting it into require().
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<FauxqsModule>;

export interface EmbeddedSqsSns {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs (SQS and SNS APIs, in memory) inside this process on a free loopback port.
 * It is loaded on demand, so callers that never start it (tests given running endpoints) never load it.
 */
export async function startFauxqs(): Promise<EmbeddedSqsSns> {
  const { startFauxqs: start } = await importEsm('fauxqs');
  const port = await freePort();
  const server = await start({ port, host: '127.0.0.1', logger: false });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}
