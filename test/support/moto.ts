import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';

/** Where a moto server runs for the tests. */
export interface MotoServer {
  readonly endpoint: string;
  readonly process?: ChildProcess;
}

// moto's own server entry point, plus a thread that ends the process when the
// parent's end of stdin closes.
const MOTO_UNTIL_STDIN_CLOSES = [
  'import os, sys, threading',
  'from moto.server import main',
  'threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()',
  'main(sys.argv[1:])',
].join('\n');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

async function isUp(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    return response.status < 500;
  } catch {
    return false;
  }
}

/**
 * Use the moto server named by MOTO_ENDPOINT (`.ci/run` starts one), or start
 * one on a free loopback port (always, with `fresh`: an empty account state).
 * moto comes from PyPI `moto[server]`. The server exits when its standard
 * input closes, so it never outlives the test process, even one that is killed.
 */
export async function startMoto(options: { fresh?: boolean } = {}): Promise<MotoServer> {
  const given = process.env.MOTO_ENDPOINT;
  if (!options.fresh && given && (await isUp(given))) {
    return { endpoint: given };
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(process.env.PYTHON ?? 'python3', ['-c', MOTO_UNTIL_STDIN_CLOSES, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await isUp(endpoint)) return { endpoint, process: child };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error(
    `moto server did not start on ${endpoint}. Install it with: pip install 'moto[server]'\n${stderr}`,
  );
}

/** Stops a moto server this process started (one named by MOTO_ENDPOINT is left running). */
export async function stopMoto(moto: MotoServer): Promise<void> {
  const child = moto.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill();
  child.stdin?.destroy();
  child.stderr?.destroy();
  await exited;
}
