import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';

/** Where a moto server runs for the tests. */
export interface MotoServer {
  readonly endpoint: string;
  readonly process?: ChildProcess;
}

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
 * one on a free loopback port. `python3 -m moto.server` comes from PyPI
 * `moto[server]`.
 */
export async function startMoto(): Promise<MotoServer> {
  const given = process.env.MOTO_ENDPOINT;
  if (given && (await isUp(given))) {
    return { endpoint: given };
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(process.env.PYTHON ?? 'python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: false,
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
