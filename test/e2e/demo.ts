/**
 * `npm run demo`: the main job end to end on this machine, step by step.
 *
 *   npm run demo                 # IRSA (the sample's default)
 *   npm run demo -- pod-identity # the Pod Identity variant
 *   npm run demo -- all          # both
 *
 * Needs Python's moto server (`pip install 'moto[server]'`); no AWS account,
 * no cluster, no Docker. Secret values are never printed.
 */
import { Identity, runFlow } from './flow';
import { ensureBundle } from '../provider/harness';

async function main(): Promise<void> {
  const choice = process.argv[2] ?? 'irsa';
  const variants: Identity[] = choice === 'all' ? ['irsa', 'pod-identity'] : [choice as Identity];
  if (!variants.every((v) => v === 'irsa' || v === 'pod-identity')) {
    throw new Error(`Unknown variant "${choice}". Fix: use irsa (default), pod-identity or all.`);
  }
  ensureBundle();
  for (const identity of variants) {
    console.log(`\n=== ${identity === 'irsa' ? 'IRSA' : 'EKS Pod Identity'}: sample app -> files in pod my-app ===\n`);
    await runFlow({ identity, log: (line) => console.log(line) });
  }
}

main().catch((err: Error) => {
  console.error(`\nDemo failed: ${err.message}`);
  process.exit(1);
});
