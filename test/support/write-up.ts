import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

/**
 * The integration from the user's write-up that the sample app reproduces and
 * the provider must mount unchanged: a SecretProviderClass and a Pod, kept in
 * test/fixtures/write-up/ (copied from the team's shared examples).
 */
export const WRITE_UP_DIR = path.join(__dirname, '..', 'fixtures', 'write-up');

/** The text of one write-up file, e.g. `secret-provider-class.yaml`. */
export function writeUpText(file: 'secret-provider-class.yaml' | 'pod.yaml'): string {
  return fs.readFileSync(path.join(WRITE_UP_DIR, file), 'utf8');
}

/** One write-up file, parsed. */
export function writeUp(file: 'secret-provider-class.yaml' | 'pod.yaml'): any {
  return parse(writeUpText(file));
}
