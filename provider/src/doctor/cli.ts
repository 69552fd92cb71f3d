/**
 * `secrets-store-doctor`: diagnose a pod's Secrets Store CSI mount (or one
 * SecretProviderClass) against the cluster and AWS, read-only.
 * Exit codes: 0 no check failed, 1 a check failed, 2 usage or access error.
 */
import { Command, InvalidArgumentError } from 'commander';
import { AwsReader } from './aws';
import { runDoctor } from './doctor';
import { createKubeReader } from './kube';

interface Flags {
  namespace?: string;
  pod?: string;
  class?: string;
  serviceAccount?: string;
  region?: string;
  clusterName?: string;
  context?: string;
  searchRegions: string[];
  logLines: number;
  json?: boolean;
  color: boolean;
}

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
};
const regions = (value: string): string[] => value.split(',').map((r) => r.trim()).filter(Boolean);

function program(): Command {
  return new Command('secrets-store-doctor')
    .description('Diagnose a Secrets Store CSI mount of AWS secrets: driver and provider, SecretProviderClass, IAM, volume, events, versions. Read-only; never prints secret values.')
    .option('-n, --namespace <ns>', 'namespace of the pod / class (default: the kubeconfig context namespace, else "default")')
    .option('-p, --pod <name>', 'the pod whose mount to diagnose')
    .option('-c, --class <name>', 'a SecretProviderClass to check (default: the classes the pod mounts)')
    .option('-s, --service-account <name>', 'service account for the IAM checks without --pod')
    .option('-r, --region <region>', 'region for EKS/IAM calls, and for objects when neither the class nor the node names one (default: AWS_REGION)')
    .option('--cluster-name <name>', 'EKS cluster name for the OIDC issuer and Pod Identity lookups (default: from an EKS cluster ARN in the kubeconfig, else the node label alpha.eksctl.io/cluster-name)')
    .option('--context <name>', 'kubeconfig context (default: the current context)')
    .option('--search-regions <list>', 'more regions to search for a missing object, comma-separated (env SECRETS_STORE_DOCTOR_REGIONS)', regions, regions(process.env.SECRETS_STORE_DOCTOR_REGIONS ?? ''))
    .option('--log-lines <n>', 'recent log lines to scan per driver/provider container', positive, 200)
    .option('--json', 'print the report as JSON')
    .option('--no-color', 'never colour the output (colour is used only on a TTY anyway)')
    .showHelpAfterError('(run secrets-store-doctor --help for usage)');
}

async function main(argv: string[]): Promise<number> {
  const cmd = program().parse(argv);
  const flags = cmd.opts<Flags>();
  if (!flags.pod && !flags.class) cmd.error('error: give --pod <name> or --class <name>', { exitCode: 2 });
  const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) cmd.error('error: no AWS region: pass --region or set AWS_REGION', { exitCode: 2 });

  const kube = await createKubeReader(flags.context);
  const progress = process.stderr.isTTY ? (text: string) => process.stderr.write(`\r\u001b[K${text}`) : () => undefined;
  const code = await runDoctor({
    namespace: flags.namespace ?? kube.target().namespace ?? 'default',
    pod: flags.pod,
    className: flags.class,
    serviceAccount: flags.serviceAccount,
    region: region!,
    clusterName: flags.clusterName,
    searchRegions: flags.searchRegions,
    logLines: flags.logLines,
  }, kube, new AwsReader(region!), {
    out: (text) => process.stdout.write(text),
    progress,
    json: !!flags.json,
    colour: flags.color && !!process.stdout.isTTY && !process.env.NO_COLOR,
  });
  if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
  return code;
}

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err: Error) => {
    process.stderr.write(`secrets-store-doctor: ${err.message}\n`);
    process.exitCode = 2;
  },
);
