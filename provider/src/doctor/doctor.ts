/**
 * The doctor as a function: given the options and the two readers, run every
 * check and write the report. cli.ts only parses flags and builds the readers,
 * so this module (and everything it imports) loads without @kubernetes/client-node.
 */
import { AwsReader } from './aws';
import { CHECKS } from './checks';
import { DoctorContext, DoctorOptions } from './context';
import { FatalError } from './errors';
import type { KubeReader } from './kube';
import { buildReport, redact, renderJson, renderText, runChecks } from './report';

/** Where the doctor writes. */
export interface DoctorIo {
  /** Results. */
  readonly out: (text: string) => void;
  /** Progress (shown while it works) and diagnostics. */
  readonly progress: (text: string) => void;
  readonly json: boolean;
  readonly colour: boolean;
}

/** Run the doctor; resolves to the exit code (1 when any check fails). */
export async function runDoctor(options: DoctorOptions, kube: KubeReader, aws: AwsReader, io: DoctorIo): Promise<number> {
  // Gather and check: every lookup is cached in the context, nothing is written anywhere.
  const ctx = new DoctorContext(options, kube, aws);
  // Reach the cluster first: an unreachable API server or missing RBAC is a usage error, not a finding of every check.
  if (!(await ctx.pod()) && options.pod) {
    throw new FatalError(
      `pod ${options.namespace}/${options.pod} not found.`,
      `Check the name and --namespace (kubectl get pods -n ${options.namespace}).`,
    );
  }
  const results = await runChecks(ctx, CHECKS, io.progress);

  // Report: root cause first; any value read for jmesPath checks is blanked as a last resort.
  const target = kube.target();
  const report = buildReport({
    context: target.context,
    namespace: options.namespace,
    pod: options.pod,
    class: options.className,
    region: options.region,
  }, results);
  const text = io.json ? renderJson(report) : renderText(report, io.colour);
  io.out(redact(text, aws.secretValues));
  return report.summary.fail > 0 ? 1 : 0;
}
