import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { parseIpAddress } from './address-ranges.js';
import type { OutboundAllowList } from './allow-list.js';
import { checkAnswers, isNamed, normalizeHostname } from './destination-policy.js';
import { OutboundError } from './outbound-error.js';

/**
 * undici's connector with the destination rules inside it: the name is resolved here, once per
 * connection, every answer is judged (checkAnswers), and the socket is opened to the first
 * answer itself, an IP, so nothing resolves the name again between the check and the connect
 * (DNS rebinding). TLS still presents and verifies the original name: undici derives the
 * servername from `host`, which is left as the URL had it. A refused destination calls back
 * with an OutboundError before any socket exists.
 */
export function createPinnedConnector(input: {
  allow: OutboundAllowList;
  lookup: LookupFunction | undefined;
  connectTimeoutMs: number;
}): buildConnector.connector {
  const connect = buildConnector({ timeout: input.connectTimeoutMs });
  const lookup = input.lookup ?? (systemLookup as LookupFunction);
  return (options, callback) => {
    const hostname = normalizeHostname(options.hostname);
    const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
    const named = isNamed({ hostname, port }, input.allow);
    resolveAll(lookup, hostname)
      .then((answers) => checkAnswers({ port, named }, answers, input.allow)[0]!)
      .then(
        // Only the rules' verdict is caught here: an error of the connect itself arrives in its
        // own callback, so `callback` is called exactly once.
        (address) => connect({ ...options, hostname: address.toString() }, callback),
        (error: unknown) => callback(asOutboundError(error), null),
      );
  };
}

/** Every address of the name (IP literals are their own answer, without a query). */
function resolveAll(lookup: LookupFunction, hostname: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    if (parseIpAddress(hostname)) {
      resolve([hostname]);
      return;
    }
    lookup(hostname, { all: true }, (error, addresses) => {
      if (error) reject(new OutboundError('dns', { cause: error }));
      else if (Array.isArray(addresses)) resolve((addresses as LookupAddress[]).map((answer) => answer.address));
      else resolve([addresses]);
    });
  });
}

function asOutboundError(error: unknown): OutboundError {
  return error instanceof OutboundError ? error : new OutboundError('dns', { cause: error });
}
