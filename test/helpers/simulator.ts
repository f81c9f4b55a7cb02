/** Starts the simulator in-process on a free loopback port, with the admin helpers on. */
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server';
import { rawRequest } from './http';

export const PROJECT = '0123456789abcdef0123456789abcdef';

export async function withSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ admin: true, rateLimitPerMinute: 0, ...options });
}

/** The simulator's instances, as `GET /__admin/instances` lists them. */
export async function adminInstances(sim: Simulator): Promise<Array<{ id: string; name: string; engine: string; version: string; backups: number }>> {
  return (await rawRequest(sim.url, '/__admin/instances')).json();
}

export function listPath(query: string, project = PROJECT): string {
  return `/v3/${project}/backups?${query}`;
}
