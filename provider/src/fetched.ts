/** One object's value as fetched from AWS. */
export interface FetchedValue {
  /** The value: SecretString/Value as UTF-8, or SecretBinary as it is. */
  readonly bytes: Buffer;
  /** Secrets Manager VersionId or SSM version number. */
  readonly version: string;
  /** The region it came from (the primary or the failover region). */
  readonly region: string;
}

/** The result of fetching one object: a value or the error that stopped it. */
export type Outcome = { readonly value: FetchedValue; readonly error?: undefined } | { readonly value?: undefined; readonly error: unknown };

/** What to fetch for one object in one region. */
export interface FetchTarget {
  /** The object's index in `objects` (results are keyed by it). */
  readonly key: number;
  /** Name or ARN to ask for. */
  readonly id: string;
  readonly version?: string;
  readonly versionLabel?: string;
}
