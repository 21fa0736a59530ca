import { blockedRange, isCloudMetadata, addressInRange, parseIpAddress, type IpAddress } from './address-ranges.js';
import { withoutTrailingDots, type OutboundAllowList } from './allow-list.js';
import { OutboundError } from './outbound-error.js';

/**
 * The rules for where an outbound request may go, in two stages: `checkUrl` before anything is
 * resolved or sent (scheme, host name, literal address, port, userinfo), and `checkAnswers` inside
 * the connect, on every address DNS gave for the name (see pinned-connector.ts). A destination is
 * allowed when OUTBOUND_ALLOW names it, or when it is public and on port 80 or 443.
 */
export interface CheckedDestination {
  readonly url: URL;
  /** The host as connected to: lower case, without IPv6 brackets or trailing dots. */
  readonly hostname: string;
  readonly port: number;
  /** OUTBOUND_ALLOW names this host (and port): whatever it resolves to is accepted. */
  readonly named: boolean;
}

const STANDARD_PORTS: ReadonlySet<number> = new Set([80, 443]);

/**
 * Names that only ever mean this machine or a private network: `localhost` and `*.localhost`
 * (RFC 6761), `*.internal` (reserved for private use; cloud metadata lives at
 * `metadata.google.internal`), `*.local` (mDNS), `*.localdomain`, `*.home.arpa` and the rest of
 * `.arpa`. Single-label names (`redis`, `metadata`) are refused too: the resolver's search domains
 * turn them into names on the server's own network.
 */
const LOCAL_NAMES: readonly string[] = ['localhost', 'internal', 'local', 'localdomain', 'arpa'];

export function checkUrl(input: string | URL, allow: OutboundAllowList): CheckedDestination {
  const url = parseUrl(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('scheme');
  const hostname = normalizeHostname(url.hostname);
  if (hostname === '') throw new OutboundError('url');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const named = isNamed({ hostname, port }, allow);
  if (!named) {
    const literal = parseIpAddress(hostname);
    if (literal) judgeAddress(literal, port, allow);
    else judgeName(hostname, port, allow);
  }
  if (url.username !== '' || url.password !== '') throw new OutboundError('userinfo');
  return { url, hostname, port, named };
}

/** Every answer must pass: one private answer among public ones refuses the whole name. */
export function checkAnswers(
  destination: Pick<CheckedDestination, 'port' | 'named'>,
  answers: readonly string[],
  allow: OutboundAllowList,
): IpAddress[] {
  if (answers.length === 0) throw new OutboundError('dns');
  return answers.map((answer) => {
    const address = parseIpAddress(answer);
    if (!address) throw new OutboundError('dns');
    if (!destination.named) judgeAddress(address, destination.port, allow);
    return address;
  });
}

/** A URL's hostname as compared and connected to: no IPv6 brackets, no trailing dots. */
export function normalizeHostname(hostname: string): string {
  const unbracketed = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return withoutTrailingDots(unbracketed.toLowerCase());
}

export function isNamed(destination: { hostname: string; port: number }, allow: OutboundAllowList): boolean {
  return allow.hosts.some(
    (entry) => entry.host === destination.hostname && (entry.port === undefined || entry.port === destination.port),
  );
}

function parseUrl(input: string | URL): URL {
  if (input instanceof URL) return new URL(input.href);
  try {
    return new URL(input);
  } catch (error) {
    throw new OutboundError('url', { cause: error });
  }
}

function judgeAddress(address: IpAddress, port: number, allow: OutboundAllowList): void {
  const allowed = allow.addresses.some(
    (entry) =>
      addressInRange(address, entry.range) &&
      (entry.port === undefined || entry.port === port) &&
      (entry.single || !isCloudMetadata(address)),
  );
  if (allowed) return;
  if (blockedRange(address) !== null) throw new OutboundError('address');
  if (!STANDARD_PORTS.has(port)) throw new OutboundError('port');
}

function judgeName(hostname: string, port: number, allow: OutboundAllowList): void {
  const labels = hostname.split('.');
  const last = labels[labels.length - 1] ?? '';
  if (labels.length < 2 || LOCAL_NAMES.includes(last)) {
    throw new OutboundError('host');
  }
  // A name on another port can only be allowed by an address entry matching what it resolves
  // to; with none that could, it is refused now rather than after a DNS query.
  const someAddressEntryTakesPort = allow.addresses.some((entry) => entry.port === undefined || entry.port === port);
  if (!STANDARD_PORTS.has(port) && !someAddressEntryTakesPort) throw new OutboundError('port');
}
