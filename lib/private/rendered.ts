/** The IAM resources one mounted object needs, for the identity that mounts it. */
export interface ObjectGrants {
  readonly secretArns: string[];
  readonly parameterArns: string[];
  readonly keyArns: string[];
}

/** An object ready for the class: its `objects` entry and its grants. */
export interface RenderedObject {
  readonly entry: { [key: string]: any };
  readonly grants: ObjectGrants;
}
