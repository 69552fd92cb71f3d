/**
 * A stand-in for the only AWS calls the doctor makes that moto 5 does not
 * implement: IAM SimulatePrincipalPolicy and EKS Pod Identity associations
 * (List/DescribePodIdentityAssociation). Everything else is forwarded to moto
 * untouched. Simulator decisions come from the test (e.g. a permissions
 * boundary the role's own policies cannot show).
 */
import * as http from 'node:http';
import { LoopbackServer } from '../support/loopback';

export type Decide = (action: string, resource: string) => 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface PodIdentityAssociation {
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
  readonly associationId: string;
}

export class AwsStandIn {
  /** Calls answered here (not forwarded), e.g. `SimulatePrincipalPolicy`. */
  public readonly answered: string[] = [];
  private readonly listener = new LoopbackServer('AwsStandIn', (req, body, res) => this.answer(req, body, res));

  constructor(
    private readonly moto: string,
    private readonly options: { decide?: Decide; associations?: PodIdentityAssociation[] } = {},
  ) {}

  public get url(): string {
    return this.listener.url;
  }

  public async start(): Promise<this> {
    await this.listener.start();
    return this;
  }

  public async stop(): Promise<void> {
    await this.listener.stop();
  }

  private async answer(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const form = new URLSearchParams(body.toString());
    if (form.get('Action') === 'SimulatePrincipalPolicy' && this.options.decide) return this.simulate(form, res);
    const pia = /^\/clusters\/([^/]+)\/pod-identity-associations(?:\/([^/]+))?$/.exec(url.pathname);
    if (pia && this.options.associations) return this.podIdentity(pia[1], pia[2], url.searchParams, res);
    return this.forward(req, body, res);
  }

  private simulate(form: URLSearchParams, res: http.ServerResponse): void {
    this.answered.push('SimulatePrincipalPolicy');
    const members = (prefix: string) => [...form.entries()].filter(([k]) => k.startsWith(`${prefix}.member.`)).map(([, v]) => v);
    const results = members('ActionNames').flatMap((action) => members('ResourceArns').map((resource) =>
      `<member><EvalActionName>${action}</EvalActionName><EvalResourceName>${resource}</EvalResourceName><EvalDecision>${this.options.decide!(action, resource)}</EvalDecision></member>`));
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(`<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>${results.join('')}</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>`);
  }

  private podIdentity(cluster: string, id: string | undefined, query: URLSearchParams, res: http.ServerResponse): void {
    this.answered.push(id ? 'DescribePodIdentityAssociation' : 'ListPodIdentityAssociations');
    const mine = this.options.associations!.filter((a) => a.clusterName === cluster);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 404 ? { 'x-amzn-errortype': 'ResourceNotFoundException' } : {}) });
      res.end(JSON.stringify(body));
    };
    if (id) {
      const a = mine.find((x) => x.associationId === id);
      return a ? json(200, { association: a }) : json(404, { message: `association ${id} not found` });
    }
    const ns = query.get('namespace');
    const sa = query.get('serviceAccount');
    const selected = mine.filter((a) => (!ns || a.namespace === ns) && (!sa || a.serviceAccount === sa));
    json(200, { associations: selected.map(({ roleArn, ...summary }) => summary) });
  }

  private forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const target = new URL(req.url ?? '/', this.moto);
      const upstream = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res).on('finish', resolve);
      });
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
        resolve();
      });
      upstream.end(body);
    });
  }
}
