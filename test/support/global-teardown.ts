import { MotoServer, stopMoto } from './moto';

export default async function globalTeardown(): Promise<void> {
  const moto = (globalThis as any).__MOTO__ as MotoServer | undefined;
  if (moto) await stopMoto(moto);
}
