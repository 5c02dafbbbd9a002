import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/local/dynamodb-local';

/**
 * Issue 19, finding 1: everything `npm start` opens must be reachable from this machine only.
 * `bin/local.ts` runs here as `npm start` runs it, in a process of its own that starts its own
 * DynamoDB Local and fauxqs, and the ports it prints are tried on every non-loopback address the
 * machine has: each must be refused. The kernel's table of listening sockets must also show no
 * listener of that process tree on anything but 127.0.0.1, including any the printout leaves out.
 */
let herald: ChildProcess;
let printed = '';
const ports: Record<string, number> = {};

beforeAll(async () => {
  herald = spawn(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'bin/local.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', HERALD_LOCAL_API_KEY: 'hrld_test_loopback_0123456789abcdef' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  herald.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  herald.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (herald.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`npm start ended with code ${herald.exitCode}:\n${printed}`));
      }
      if (printed.includes('Press Ctrl+C to stop.')) {
        clearInterval(timer);
        resolve();
      }
    }, 200);
  });
  const port = (label: RegExp) => Number(label.exec(printed)?.[1]);
  ports['HTTP API, console and /local/ routes'] = port(/Herald is running at http:\/\/127\.0\.0\.1:(\d+)/);
  ports['DynamoDB Local'] = port(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/);
  ports['SQS and SNS (fauxqs)'] = port(/SQS and SNS\s+http:\/\/127\.0\.0\.1:(\d+)/);
}, 240_000);

afterAll(async () => {
  if (!herald || herald.exitCode !== null) return;
  const tree = processTree(herald.pid!);
  const exited = new Promise((resolve) => herald.once('exit', resolve));
  // As Ctrl+C would: the runtime stops DynamoDB Local and everything else it opened.
  herald.kill('SIGINT');
  const timer = setTimeout(() => tree.forEach((pid) => killQuietly(pid)), 30_000);
  await exited;
  clearTimeout(timer);
}, 60_000);

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Every address of this machine that another machine could send to. */
function nonLoopbackAddresses(): string[] {
  return Object.entries(networkInterfaces()).flatMap(([name, addresses]) =>
    (addresses ?? [])
      .filter((address) => !address.internal)
      // A link-local IPv6 address names its interface, or the kernel cannot tell where it is.
      .map((address) => (address.family === 'IPv6' && address.address.startsWith('fe80:') ? `${address.address}%${name}` : address.address)),
  );
}

/** How a TCP connection to `host:port` ends: 'connected' or the error code. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 5_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** A process and every process it started (tsx's node, DynamoDB Local's JVM), from /proc. */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent is the fourth field, after the command name in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone since the listing.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, parent] of parents) if (parent === tree[i]) tree.push(pid);
  return tree;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // Closed since the listing.
    }
  }
  return inodes;
}

/** Turns /proc/net/tcp's hex address (host byte order per 32-bit word, here little-endian) into text. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().map((byte) => parseInt(byte, 16)));
  if (words.length === 1) return words[0]!.join('.');
  const bytes = words.flat();
  const mappedV4 = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mappedV4) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/** The TCP sockets in LISTEN state that the given processes hold, with the address each is bound to. */
function listeningSockets(pids: number[]): { address: string; port: number }[] {
  const owned = new Set(pids.flatMap((pid) => [...socketInodes(pid)]));
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      // Fields: sl, local address, remote address, state (0A is LISTEN), …, inode (the tenth).
      .filter((fields) => fields.length > 9 && fields[3] === '0A' && owned.has(fields[9]!))
      .map((fields) => {
        const [address, port] = fields[1]!.split(':');
        return { address: procAddress(address!), port: parseInt(port!, 16) };
      }),
  );
}

const addresses = nonLoopbackAddresses();

describe('the ports the local runtime opens', () => {
  it('answer on 127.0.0.1', async () => {
    expect(Object.values(ports).every((port) => port > 0)).toBe(true);
    for (const [name, port] of Object.entries(ports)) {
      expect({ name, outcome: await tryConnect('127.0.0.1', port) }).toEqual({ name, outcome: 'connected' });
    }
  });

  if (addresses.length === 0) {
    it.skip('refuse connections on the non-loopback addresses of this machine — skipped: this machine has no address but loopback', () => undefined);
  } else {
    it.each(addresses)('refuse connections on %s, an address of this machine other machines can reach', async (address) => {
      const outcomes: Record<string, string> = {};
      for (const [name, port] of Object.entries(ports)) outcomes[`${name} (${port})`] = await tryConnect(address, port);
      expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((name) => [name, 'ECONNREFUSED'])));
    });
  }

  const procAvailable = existsSync('/proc/net/tcp');
  (procAvailable ? it : it.skip)('include no listener of npm start\'s processes on any address but 127.0.0.1', () => {
    const listeners = listeningSockets(processTree(herald.pid!));
    // Every port the runtime reports is among them, so the listing really is of the runtime's sockets.
    expect(listeners.map((listener) => listener.port)).toEqual(expect.arrayContaining(Object.values(ports)));
    const elsewhere = listeners.filter((listener) => listener.address !== '127.0.0.1' && listener.address !== '::ffff:127.0.0.1');
    expect(elsewhere).toEqual([]);
  });
});
