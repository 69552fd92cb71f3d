import type { MotoServer } from './moto';

export default async function globalTeardown(): Promise<void> {
  const moto = (globalThis as any).__MOTO__ as MotoServer | undefined;
  moto?.process?.kill();
}
