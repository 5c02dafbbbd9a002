import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ephemeralPortRange, restartablePort } from '../../../lib/local/free-port';

// A port listened on again after a stop must be one no outgoing connection can take meanwhile:
// outside the range the OS gives out as local ends of connections.

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'herald-ports-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ephemeralPortRange', () => {
  it("reads Linux's range as procfs prints it", () => {
    const file = join(dir, 'range');
    writeFileSync(file, '32768\t60999\n');
    expect(ephemeralPortRange(file)).toEqual({ low: 32_768, high: 60_999 });
  });

  it('falls back to the IANA dynamic range (49152 to 65535) without procfs', () => {
    expect(ephemeralPortRange(join(dir, 'absent'))).toEqual({ low: 49_152, high: 65_535 });
  });
});

const listenOn = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('why a port listened on again must be outside the ephemeral range', () => {
  it('an outgoing connection takes its local end from the range, and nobody can listen there while it is open', async () => {
    const target = await listenOn(0);
    const socket = connect((target.address() as { port: number }).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      const range = ephemeralPortRange();
      expect(socket.localPort).toBeGreaterThanOrEqual(range.low);
      expect(socket.localPort).toBeLessThanOrEqual(range.high);
      await expect(listenOn(socket.localPort!)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      socket.destroy();
      await closeServer(target);
    }
  });
});

describe('restartablePort', () => {
  it('gives a port below the range when there is room there, and it can be listened on', async () => {
    const range = { low: 32_768, high: 60_999 };
    for (let i = 0; i < 20; i++) {
      const port = await restartablePort(range);
      expect(port < range.low || port > range.high).toBe(true);
      expect(port).toBeGreaterThanOrEqual(1_024);
      await closeServer(await listenOn(port));
    }
  });

  it('gives a port above the range when the range starts low', async () => {
    const range = { low: 1_024, high: 50_000 };
    for (let i = 0; i < 20; i++) expect(await restartablePort(range)).toBeGreaterThan(50_000);
  });

  it('stays outside the range of this machine', async () => {
    const range = ephemeralPortRange();
    const port = await restartablePort();
    expect(port < range.low || port > range.high).toBe(true);
  });
});
