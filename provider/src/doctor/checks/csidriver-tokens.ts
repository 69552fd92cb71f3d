/** Step 1: the CSIDriver object requests a service account token for the audience the class needs. */
import { DRIVER_NAME } from '../context';
import { Check, fail, pass } from '../types';

export const IRSA_AUDIENCE = 'sts.amazonaws.com';
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';

export const check: Check = {
  id: 'csidriver-tokens',
  title: 'CSIDriver requests the token audience',
  group: 'driver',
  rank: 32,
  async run(ctx) {
    const driver = await ctx.csiDriver();
    if (!driver) {
      return [fail(`CSIDriver ${DRIVER_NAME} does not exist`, 'Install the Secrets Store CSI driver; it creates the CSIDriver object.')];
    }
    const podIdentity = (await ctx.classes()).some((c) => c.validation?.value?.settings.usePodIdentity);
    const audience = podIdentity ? POD_IDENTITY_AUDIENCE : IRSA_AUDIENCE;
    const audiences = (driver.spec?.tokenRequests ?? []).map((t) => t.audience ?? '');
    if (audiences.includes(audience)) {
      return [pass(`CSIDriver ${DRIVER_NAME} requests tokens for ${audiences.join(', ')}`)];
    }
    return [fail(
      `CSIDriver ${DRIVER_NAME} requests no token for audience ${audience} (${podIdentity ? 'Pod Identity' : 'IRSA'}); tokenRequests: ${audiences.length ? audiences.join(', ') : 'none'}`,
      `Add tokenRequests: [{audience: ${audience}}] to the CSIDriver (Helm: tokenRequests[].audience=${audience}); the provider receives no token without it.`,
    )];
  },
};
