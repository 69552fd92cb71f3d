import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { SecretsStoreValidationError } from './errors';

/** A DNS-1123 label: lower-case letters, digits and `-`, starting and ending alphanumeric, at most 63. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_MAX = 63;

/** A DNS-1123 subdomain: labels joined by `.`, at most 253 characters. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_SUBDOMAIN_MAX = 253;

/** Why `value` is not a DNS-1123 label, or undefined when it is one. */
export function dnsLabelProblem(value: string): string | undefined {
  if (value.length > DNS_LABEL_MAX) {
    return `is ${value.length} characters long (at most ${DNS_LABEL_MAX})`;
  }
  return DNS_LABEL.test(value) ? undefined : 'is not a DNS-1123 label (lower-case letters, digits and "-", alphanumeric at both ends)';
}

/** Why `value` is not a DNS-1123 subdomain, or undefined when it is one. */
export function dnsSubdomainProblem(value: string): string | undefined {
  if (value.length > DNS_SUBDOMAIN_MAX) {
    return `is ${value.length} characters long (at most ${DNS_SUBDOMAIN_MAX})`;
  }
  return DNS_SUBDOMAIN.test(value)
    ? undefined
    : 'is not a DNS-1123 subdomain (lower-case letters, digits, "-" and ".", alphanumeric at both ends)';
}

/** What a Kubernetes name is checked as. */
export type KubeNameKind = 'label' | 'subdomain';

/**
 * Refuses a Kubernetes object name that the API server would reject, naming the
 * construct, the property and the value. Unresolved tokens are skipped.
 */
export function checkKubeName(scope: IConstruct, property: string, value: string, kind: KubeNameKind): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  const problem = kind === 'label' ? dnsLabelProblem(value) : dnsSubdomainProblem(value);
  if (problem) {
    throw new SecretsStoreValidationError(scope, `${property} "${value}" ${problem}, so Kubernetes would reject it. ` +
      `Fix: use a name like "${suggestName(value, kind)}".`);
  }
}

/** A valid name close to `value`: lower-cased, invalid characters replaced by `-`, trimmed. */
export function suggestName(value: string, kind: KubeNameKind): string {
  const allowed = kind === 'label' ? /[^a-z0-9-]+/g : /[^a-z0-9.-]+/g;
  const max = kind === 'label' ? DNS_LABEL_MAX : DNS_SUBDOMAIN_MAX;
  let cleaned = value.toLowerCase().replace(allowed, '-');
  if (kind === 'subdomain') {
    // Each dot-separated label must also start and end alphanumeric.
    cleaned = cleaned.replace(/[-.]*\.[-.]*/g, '.');
  }
  cleaned = cleaned.slice(0, max).replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return cleaned === '' ? 'my-app' : cleaned;
}
