/**
 * The protocol's facts as plain data: what `protocol.json` holds for the parts that cannot
 * import TypeScript (Terraform reads it with `jsondecode(file(...))`). Generated from this
 * file by `npm run -w @wskit/protocol generate`; a test fails when the JSON is out of date.
 */
import { ERROR_CODES, JWT_ALGORITHMS } from './codes';
import { ACTIONS, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, REPORT_COUNTERS } from './frames';
import { LIMITS, MAX_JSON_DEPTH, MAX_REQUEST_ID_LENGTH } from './limits';
import {
  MAX_SUBJECT_LENGTH,
  MAX_TOPIC_LENGTH,
  SUBJECT_PATTERN_SOURCE,
  TOPIC_PATTERN_SOURCE,
  TOPIC_SEPARATORS,
  USER_TOPIC_PREFIX,
} from './topics';

export const PROTOCOL_VERSION = 1;

export function protocolSpec() {
  return {
    $comment: 'Generated from protocol/src by `npm run -w @wskit/protocol generate`; do not edit by hand.',
    version: PROTOCOL_VERSION,
    actions: [...ACTIONS],
    errorCodes: [...ERROR_CODES],
    limits: { ...LIMITS, maxRequestIdLength: MAX_REQUEST_ID_LENGTH, maxJsonDepth: MAX_JSON_DEPTH },
    topic: {
      pattern: TOPIC_PATTERN_SOURCE,
      maxLength: MAX_TOPIC_LENGTH,
      separators: [...TOPIC_SEPARATORS],
      userPrefix: USER_TOPIC_PREFIX,
    },
    subject: { pattern: SUBJECT_PATTERN_SOURCE, maxLength: MAX_SUBJECT_LENGTH },
    jwtAlgorithms: [...JWT_ALGORITHMS],
    history: { defaultLimit: HISTORY_DEFAULT_LIMIT, maxLimit: HISTORY_MAX_LIMIT },
    reportCounters: [...REPORT_COUNTERS],
  };
}
