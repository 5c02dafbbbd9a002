import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A loopback port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The ports the OS hands out as the local end of outgoing connections (and to `listen(0)`).
 * Linux says in procfs; elsewhere the IANA dynamic range, which macOS and Windows use.
 */
export function ephemeralPortRange(procFile = '/proc/sys/net/ipv4/ip_local_port_range'): { low: number; high: number } {
  try {
    const [low, high] = readFileSync(procFile, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 0 && high! >= low!) return { low: low!, high: high! };
  } catch {
    // Not Linux, or procfs hidden.
  }
  return { low: 49_152, high: 65_535 };
}

const LOWEST_RESTARTABLE_PORT = 10_000;

/**
 * A free loopback port for a server that listens on it later or again after it stopped: a
 * process yet to start, a runtime started again after a crash, a receiver that goes down for a
 * while. `freePort` would hand out
 * a port of the ephemeral range, and while nobody listens on it any outgoing connection on the
 * machine may take it as its local end, after which `listen` fails with EADDRINUSE until that
 * connection closes. This port is outside that range, so only another explicit listen can take it.
 */
export async function restartablePort(range = ephemeralPortRange()): Promise<number> {
  const below = { low: LOWEST_RESTARTABLE_PORT, high: range.low - 1 };
  const above = { low: range.high + 1, high: 65_535 };
  const room = [below, above].filter((span) => span.high - span.low >= 100);
  for (let attempt = 0; attempt < 50 && room.length; attempt++) {
    const span = room[attempt % room.length]!;
    const candidate = span.low + Math.floor(Math.random() * (span.high - span.low + 1));
    if (await canListen(candidate)) return candidate;
  }
  // The ephemeral range covers nearly every port: the risk above cannot be avoided.
  return freePort();
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
