/** Starts Debian's redis-server on a free loopback port for a test (.ci/run installs the package). */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export interface RedisServer {
  url: string;
  port: number;
  /** SIGSTOP: the server keeps its connections but answers nothing (a slow Redis) until `resume()`. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Kills the server (SIGKILL); its data is gone. */
  stop(): Promise<void>;
  /** After `stop()`: a fresh, empty server on the same port. */
  restart(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('redis-server is not installed: apt-get install redis-server (.ci/run does)');
  }
  const port = await freePort();
  let child = await spawnRedis(port);
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause: () => { if (running()) child.kill('SIGSTOP'); },
    resume: () => { if (running()) child.kill('SIGCONT'); },
    stop: async () => {
      if (!running()) return;
      child.kill('SIGKILL'); // also ends a paused server
      await new Promise((r) => child.once('exit', r));
    },
    restart: async () => {
      if (running()) throw new Error('restart() needs stop() first');
      child = await spawnRedis(port);
    },
  };
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (up) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('redis-server did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
