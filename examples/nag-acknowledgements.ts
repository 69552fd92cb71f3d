import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One acknowledged cdk-nag finding: where, which finding, and why it stays. */
interface Acknowledgement {
  readonly path: string;
  readonly finding: string;
  readonly reason: string;
}

const AWS_MANAGED = 'arn:<AWS::Partition>:iam::aws:policy';
const CLUSTER_ROLE_REASON = 'EKS Auto Mode requires these AWS managed policies on the cluster role.';
const NODE_ROLE_REASON = 'EKS Auto Mode nodes require these AWS managed policies on the node role.';
const KUBECTL_REASON = 'Role of the kubectl custom resource built by aws-cdk-lib; its policies are chosen by aws-cdk-lib.';
const HANDLER = 'Cluster/KubectlProvider/Handler/ServiceRole/Resource';
const FRAMEWORK = 'Cluster/KubectlProvider/Provider/framework-onEvent';

/** Findings on resources aws-cdk-lib builds for a new EKS cluster, which the sample cannot change. */
const NEW_CLUSTER: Acknowledgement[] = [
  { path: 'Cluster/DefaultVpc/Resource', finding: 'AwsSolutions-VPC7', reason: 'Sample VPC; flow logs belong to the network of a real deployment.' },
  {
    path: 'Cluster/Resource',
    finding: 'AwsSolutions-EKS1',
    reason: 'The kubectl provider runs outside the VPC and reaches the API through the public endpoint; restrict it with EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom() in production.',
  },
  ...['AmazonEKSClusterPolicy', 'AmazonEKSComputePolicy', 'AmazonEKSBlockStoragePolicy', 'AmazonEKSLoadBalancingPolicy', 'AmazonEKSNetworkingPolicy']
    .map((p) => ({ path: 'Cluster/Role/Resource', finding: `AwsSolutions-IAM4[Policy::${AWS_MANAGED}/${p}]`, reason: CLUSTER_ROLE_REASON })),
  ...['AmazonEKSWorkerNodePolicy', 'AmazonEC2ContainerRegistryReadOnly']
    .map((p) => ({ path: 'Cluster/ClusternodePoolRole/Resource', finding: `AwsSolutions-IAM4[Policy::${AWS_MANAGED}/${p}]`, reason: NODE_ROLE_REASON })),
  ...['AmazonEC2ContainerRegistryReadOnly', 'service-role/AWSLambdaBasicExecutionRole', 'service-role/AWSLambdaVPCAccessExecutionRole']
    .map((p) => ({ path: HANDLER, finding: `AwsSolutions-IAM4[Policy::${AWS_MANAGED}/${p}]`, reason: KUBECTL_REASON })),
  {
    path: HANDLER,
    finding: 'AwsSolutions-IAM4[Policy::{"Fn::If":["ClusterKubectlProviderHandlerHasEcrPublic69E09706",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]',
    reason: KUBECTL_REASON,
  },
  ...['service-role/AWSLambdaBasicExecutionRole', 'service-role/AWSLambdaVPCAccessExecutionRole']
    .map((p) => ({ path: `${FRAMEWORK}/ServiceRole/Resource`, finding: `AwsSolutions-IAM4[Policy::${AWS_MANAGED}/${p}]`, reason: KUBECTL_REASON })),
  {
    path: `${FRAMEWORK}/ServiceRole/DefaultPolicy/Resource`,
    finding: 'AwsSolutions-IAM5[Resource::<ClusterKubectlProviderHandler2E05C68A.Arn>:*]',
    reason: 'The custom resource framework invokes every version of the kubectl handler it owns (aws-cdk-lib).',
  },
  { path: 'Cluster/KubectlProvider/Handler/Resource', finding: 'AwsSolutions-L1', reason: 'Runtime of the kubectl handler is chosen by aws-cdk-lib.' },
  { path: `${FRAMEWORK}/Resource`, finding: 'AwsSolutions-L1', reason: 'Runtime of the custom resource framework is chosen by aws-cdk-lib.' },
];

/** Findings on the sample's own resources. */
const SAMPLE: Acknowledgement[] = [
  {
    path: 'SecretsStore/DbPassword/Resource',
    finding: 'AwsSolutions-SMG4',
    reason: 'Sample secret with a generated value; rotation needs an application-specific rotation function.',
  },
];

/** Records each acknowledgement on its construct; a missing path is an error, so the list cannot go stale. */
export function acknowledgeFindings(stack: IConstruct, newCluster: boolean): void {
  for (const ack of [...SAMPLE, ...(newCluster ? NEW_CLUSTER : [])]) {
    const target = findPath(stack, ack.path);
    if (!target) {
      throw new Error(`cdk-nag acknowledgement for ${ack.finding} points at ${ack.path}, which does not exist. Fix: update examples/nag-acknowledgements.ts.`);
    }
    acknowledge(target, ack.finding, ack.reason);
  }
}

/**
 * Records an acknowledgement where cdk-nag reads it. aws-cdk-lib's `acknowledge()` refuses ids
 * with more than one `::`, which IAM4 findings on partition-aware ARNs always have; those are
 * written as the same metadata entry directly.
 */
function acknowledge(target: IConstruct, finding: string, reason: string): void {
  if (finding.split('::').length <= 2) {
    Validations.of(target).acknowledge({ id: finding, reason });
  } else {
    target.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [finding]: reason });
  }
}

function findPath(root: IConstruct, path: string): IConstruct | undefined {
  let node: IConstruct | undefined = root;
  for (const part of path.split('/')) {
    node = node?.node.tryFindChild(part);
  }
  return node;
}
