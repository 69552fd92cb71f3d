/** Every check, in no particular order: the report groups them and sorts failures by rank. */
import { Check } from '../types';
import * as classExists from './class-exists';
import * as classRules from './class-rules';
import * as csidriverTokens from './csidriver-tokens';
import * as driverLogs from './driver-logs';
import * as driverOnNode from './driver-on-node';
import * as events from './events';
import * as identity from './identity';
import * as jmespath from './jmespath';
import * as objectsExist from './objects-exist';
import * as permissions from './permissions';
import * as rotation from './rotation';
import * as secretObjects from './secret-objects';
import * as trust from './trust';
import * as versions from './versions';
import * as volumeCsi from './volume-csi';

export const CHECKS: readonly Check[] = [
  driverOnNode, csidriverTokens, driverLogs,
  classExists, classRules, objectsExist, jmespath,
  identity, trust, permissions,
  volumeCsi, secretObjects,
  events,
  versions, rotation,
].map((m) => m.check);
