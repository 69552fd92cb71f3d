// The parts of @kubernetes/client-node the doctor uses, imported statically
// from an ES module so esbuild keeps only what they need (an import of the
// package root pulls in every API group and the exec/attach/watch helpers).
// Deep imports: the package index re-exports these from the same modules.
// If the package's layout changes, the build fails.
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';
export {
  ObjectAppsV1Api as AppsV1Api,
  ObjectCoreV1Api as CoreV1Api,
  ObjectCustomObjectsApi as CustomObjectsApi,
  ObjectStorageV1Api as StorageV1Api,
} from '@kubernetes/client-node/dist/gen/types/ObjectParamAPI.js';
