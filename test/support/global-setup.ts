import { startMoto } from './moto';

// One moto server for the whole run; tests use unique names so they do not
// need to reset it. Its endpoint reaches every test through MOTO_ENDPOINT.
export default async function globalSetup(): Promise<void> {
  const moto = await startMoto();
  process.env.MOTO_ENDPOINT = moto.endpoint;
  (globalThis as any).__MOTO__ = moto;
}
