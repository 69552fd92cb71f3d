import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ACCOUNT, OIDC_ARN, TEST_CONTEXT } from './util';
import { SampleStack, sampleStackPropsFromContext } from '../../examples/sample-stack';

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/eks-admin`;

/** The sample app as examples/app.ts builds it, from `-c` context values. */
function sampleApp(context: Record<string, string>): Template {
  const app = new App({ context: { ...TEST_CONTEXT, ...context } });
  const stack = new SampleStack(app, 'SecretsStoreSample', sampleStackPropsFromContext(app));
  return Template.fromStack(stack);
}

describe('sample app context values are checked up front', () => {
  test.each<[string, Record<string, string>, RegExp]>([
    [
      'a kubectlRoleArn that is not an ARN',
      { clusterName: 'prod', kubectlRoleArn: 'notarn' },
      /^Context "kubectlRoleArn" is "notarn", which is not an IAM role ARN\. Fix: pass it in this form: -c kubectlRoleArn=arn:aws:iam::111122223333:role\/eks-admin/,
    ],
    [
      'a kubectlRoleArn of a user, not a role',
      { clusterName: 'prod', kubectlRoleArn: `arn:aws:iam::${ACCOUNT}:user/admin` },
      /Context "kubectlRoleArn" is "arn:aws:iam::111122223333:user\/admin", which is not an IAM role ARN/,
    ],
    [
      'an oidcProviderArn that is garbage',
      { clusterName: 'prod', kubectlRoleArn: ROLE_ARN, oidcProviderArn: 'garbage' },
      /^Context "oidcProviderArn" is "garbage", which is not the ARN of an EKS cluster's IAM OIDC provider\. Fix: pass it in this form: -c oidcProviderArn=arn:aws:iam::/,
    ],
    ['a region that is not one', { region: 'Europe' }, /^Context "region" is "Europe", which is not an AWS region\. Fix: .*-c region=eu-west-1/],
    ['an account that is not 12 digits', { region: 'eu-west-1', account: '1234' }, /^Context "account" is "1234", which is not a 12-digit AWS account id/],
    ['an unknown identity', { identity: 'oidc' }, /^Context "identity" is "oidc", which is not "irsa" \(the default\) or "pod-identity"/],
    ['a cluster name with a space', { clusterName: 'my cluster' }, /^Context "clusterName" is "my cluster", which is not an EKS cluster name/],
  ])('%s is refused, naming the key and the expected form', (_name, context, message) => {
    expect(() => sampleApp(context)).toThrow(message);
  });

  test.each(['kubectlRoleArn', 'oidcProviderArn'])('%s without clusterName is refused instead of ignored', (key) => {
    const value = key === 'kubectlRoleArn' ? ROLE_ARN : OIDC_ARN;
    expect(() => sampleApp({ [key]: value })).toThrow(
      `Context "${key}" is set but "clusterName" is not, so it would be ignored and a new cluster created. ` +
        `Fix: add -c clusterName=<existing cluster>, or drop -c ${key}.`,
    );
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['clusterName without kubectlRoleArn', { clusterName: 'prod' }, /^Context "kubectlRoleArn" is required with "clusterName".*Fix: add -c kubectlRoleArn=/],
    [
      'clusterName for IRSA without oidcProviderArn',
      { clusterName: 'prod', kubectlRoleArn: ROLE_ARN },
      /^Context "oidcProviderArn" is required with "clusterName" for IRSA\. Fix: .*or -c identity=pod-identity/,
    ],
  ])('%s is refused', (_name, context, message) => {
    expect(() => sampleApp(context)).toThrow(message);
  });

  test('clusterName with Pod Identity needs no OIDC provider', () => {
    const template = sampleApp({ clusterName: 'prod', kubectlRoleArn: ROLE_ARN, identity: 'pod-identity', region: 'eu-west-1', account: ACCOUNT });
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { ClusterName: 'prod', ServiceAccount: 'my-app' });
  });

  test('account without region is refused instead of ignored', () => {
    expect(() => sampleApp({ account: ACCOUNT })).toThrow(/^Context "account" \(111122223333\) is set without "region".*Fix: add -c region=<region>/);
  });

  test('an OIDC provider whose issuer is in another region than -c region is refused', () => {
    const context = { clusterName: 'prod', kubectlRoleArn: ROLE_ARN, oidcProviderArn: OIDC_ARN, region: 'us-east-1' };
    expect(() => sampleApp(context)).toThrow(
      /^Context "oidcProviderArn" is for an issuer in eu-west-1, but "region" is us-east-1; .*Fix: .* or -c region=eu-west-1\./,
    );
  });

  test('an OIDC provider in another account than -c account is refused', () => {
    const context = { clusterName: 'prod', kubectlRoleArn: ROLE_ARN, oidcProviderArn: OIDC_ARN, region: 'eu-west-1', account: '444455556666' };
    expect(() => sampleApp(context)).toThrow(/^Context "oidcProviderArn" is in account 111122223333, but "account" is 444455556666; /);
  });

  test('valid values for an existing cluster synthesize, trusting that OIDC provider', () => {
    const template = sampleApp({ clusterName: 'prod', kubectlRoleArn: ROLE_ARN, oidcProviderArn: OIDC_ARN, region: 'eu-west-1', account: ACCOUNT });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Federated: OIDC_ARN } })] },
    });
    template.resourceCountIs('AWS::EKS::Cluster', 0);
  });

  test('no context at all still builds the sample with its own cluster', () => {
    sampleApp({}).resourcePropertiesCountIs('AWS::EKS::Addon', { AddonName: 'aws-secrets-store-csi-driver-provider' }, 1);
  });
});
