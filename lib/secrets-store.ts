import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { claimDriverInstall, InstalledSecretsStore, SecretsStoreInstall } from './install';
import { SecretsStoreClass, SecretsStoreClassOptions } from './secrets-store-class';
import { SecretsStoreServiceAccount, SecretsStoreServiceAccountOptions } from './workload-identity';

/** Props of a SecretsStore. */
export interface SecretsStoreProps {
  /** The EKS cluster (`aws-eks-v2`), created in this app or imported with its OIDC and kubectl providers. */
  readonly cluster: eks.ICluster;

  /**
   * How the driver and the AWS provider get onto the cluster.
   * @default SecretsStoreInstall.eksAddon()
   */
  readonly install?: SecretsStoreInstall;
}

/** Options for applying a cdk8s chart of workloads. */
export interface AddWorkloadsOptions {
  /**
   * Classes the chart's workloads need besides those mounted through `SecretsStoreClass.mount`.
   * @default - none
   */
  readonly classes?: SecretsStoreClass[];
}

/**
 * Mount AWS Secrets Manager secrets and SSM parameters as files in EKS pods:
 * installs the Secrets Store CSI driver and the AWS provider on a cluster, and
 * adds service accounts with least-privilege roles, SecretProviderClasses and
 * workloads, applied in that order.
 */
export class SecretsStore extends Construct {
  /** The cluster. */
  public readonly cluster: eks.ICluster;

  /** What the install put on the cluster. */
  public readonly installed: InstalledSecretsStore;

  private readonly namespaces = new Map<string, eks.KubernetesManifest>();

  constructor(scope: Construct, id: string, props: SecretsStoreProps) {
    super(scope, id);
    this.cluster = props.cluster;

    // One driver per cluster: refuse a second install before adding anything.
    const install = props.install ?? SecretsStoreInstall.eksAddon();
    install._checkOptions(this);
    claimDriverInstall(this, props.cluster, install);
    this.installed = install.bind(new Construct(this, 'Install'), props.cluster);
  }

  /** Creates a Secrets Manager secret (generated unless given a value) to mount with `SecretObject.fromSecret`. */
  public addSecret(id: string, props: secretsmanager.SecretProps = {}): secretsmanager.Secret {
    return new secretsmanager.Secret(this, id, props);
  }

  /** Adds a service account with its IAM identity, after the driver and (if asked) its namespace. */
  public addServiceAccount(id: string, options: SecretsStoreServiceAccountOptions): SecretsStoreServiceAccount {
    const sa = new SecretsStoreServiceAccount(this, id, { ...options, cluster: this.cluster });
    if (this.installed.dependable) {
      sa.manifest.node.addDependency(this.installed.dependable);
    }
    if (options.createNamespace) {
      sa.manifest.node.addDependency(this.namespace(sa.serviceAccountNamespace));
    }
    return sa;
  }

  /** Adds a SecretProviderClass whose objects are granted to its service account. */
  public addSecretProviderClass(id: string, options: SecretsStoreClassOptions): SecretsStoreClass {
    return new SecretsStoreClass(this, id, { ...options, cluster: this.cluster, installed: this.installed });
  }

  /**
   * Applies a cdk8s chart (e.g. the Pods or Deployments classes were mounted into) after those classes.
   * Build the chart completely first: it is rendered now.
   */
  public addWorkloads(id: string, chart: Chart, options: AddWorkloadsOptions = {}): eks.KubernetesManifest {
    const manifest = new eks.KubernetesManifest(this, id, { cluster: this.cluster, manifest: chart.toJson(), overwrite: true });
    const classes = new Set([...SecretsStoreClass._mountedIn(chart), ...(options.classes ?? [])]);
    for (const cls of classes) {
      manifest.node.addDependency(cls);
    }
    if (this.installed.dependable) {
      manifest.node.addDependency(this.installed.dependable);
    }
    return manifest;
  }

  /** The namespace manifest, once per name, after the driver. */
  private namespace(name: string): eks.KubernetesManifest {
    let manifest = this.namespaces.get(name);
    if (!manifest) {
      manifest = new eks.KubernetesManifest(this, `Namespace-${name}`, {
        cluster: this.cluster,
        manifest: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }],
        overwrite: true,
      });
      if (this.installed.dependable) {
        manifest.node.addDependency(this.installed.dependable);
      }
      this.namespaces.set(name, manifest);
    }
    return manifest;
  }
}
