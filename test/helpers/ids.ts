/**
 * Ids the tests check against or send. The built-in template ids come from the source of truth,
 * src/features/agents/templates.ts, under the short names the suites use.
 */
export {
  BLANK_TEMPLATE_ID as BLANK_TEMPLATE,
  SUPPORT_TEMPLATE_ID as SUPPORT_TEMPLATE,
} from '../../src/features/agents/templates.js';

/** Any lower-case UUID, as the server writes ids and x-request-id. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An RFC 9562 version-7 UUID (time-ordered), as `newId()` makes for stored objects. */
export const UUID_V7_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
