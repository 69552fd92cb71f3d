/**
 * `secrets-store-doctor`: diagnose a pod's Secrets Store CSI mount (or one
 * SecretProviderClass) against the cluster and AWS, read-only.
 * Exit codes: 0 no check failed, 1 a check failed, 2 usage or access error.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { AwsReader } from './aws';
import { runDoctor } from './doctor';
import { FatalError, FatalErrorJson, fatalJson, fatalText } from './errors';
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

const USAGE_FIX = 'Run secrets-store-doctor --help for usage.';

/**
 * The command line. Parse errors throw (exitOverride) instead of exiting 1, so
 * main() turns every usage error into exit code 2; with `json` commander
 * prints nothing of its own, and main() prints the error as JSON instead.
 */
function program(json: boolean): Command {
  return new Command('secrets-store-doctor')
    .exitOverride()
    .configureOutput({ writeErr: (text) => (json ? undefined : process.stderr.write(text)) })
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

/** Parse the flags, build the readers and run the checks; resolves to 0 or 1, throws on usage and access errors. */
async function diagnose(argv: string[], mode: { json: boolean }): Promise<number> {
  const cmd = program(mode.json).parse(argv);
  const flags = cmd.opts<Flags>();
  // As parsed (`-n --json` is a namespace): the report and any later error follow the flag.
  mode.json = !!flags.json;
  if (!flags.pod && !flags.class) cmd.error('error: give --pod <name> or --class <name>', { exitCode: 2 });
  const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) cmd.error('error: no AWS region: pass --region or set AWS_REGION', { exitCode: 2 });

  const kube = await createKubeReader(flags.context);
  const progress = process.stderr.isTTY ? (text: string) => process.stderr.write(`\r\u001b[K${text}`) : () => undefined;
  return runDoctor({
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
    json: mode.json,
    colour: flags.color && !!process.stdout.isTTY && !process.env.NO_COLOR,
  });
}

/** `--json` before any `--`: known before parsing, so even a parse error can be printed as JSON. */
function wantsJson(argv: string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

/** What stopped the run and how to fix it, for any error diagnose() throws. */
function describeFatal(err: unknown): FatalErrorJson {
  if (err instanceof CommanderError) return { error: err.message.replace(/^error: /, ''), fix: USAGE_FIX };
  if (err instanceof FatalError) return { error: err.message, fix: err.fix };
  return { error: (err as Error).message ?? String(err), fix: 'Check access to the cluster and to AWS (credentials, region, network), then run again.' };
}

/** Run; exit 0 (nothing failed, or --help), 1 (a check failed) or 2 (usage or access error). */
async function main(argv: string[]): Promise<number> {
  const mode = { json: wantsJson(argv) };
  try {
    return await diagnose(argv, mode);
  } catch (err) {
    // --help: commander has printed the help.
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    const fatal = describeFatal(err);
    // Commander has already printed its own usage errors as text (not with --json).
    if (mode.json) process.stdout.write(fatalJson(fatal));
    else if (!(err instanceof CommanderError)) process.stderr.write(fatalText(fatal));
    return 2;
  } finally {
    if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
  }
}

// main() handles every error itself.
void main(process.argv).then((code) => {
  process.exitCode = code;
});
