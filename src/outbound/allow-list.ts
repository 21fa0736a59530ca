import ipaddr from 'ipaddr.js';
import { parseIpAddress, type IpAddress } from './address-ranges.js';

/**
 * The destinations an operator allows although the rules would refuse them (`OUTBOUND_ALLOW`):
 * named hosts (any address they resolve to; any port, or the one given) and addresses (one IP,
 * optionally with a port, or a CIDR range with any port). A named host also lifts the host-name
 * rules (`localhost`, `*.internal`…); an address entry does not, so `127.0.0.0/8` allows
 * `http://127.0.0.1:8080/` but not `http://localhost:8080/`.
 */
export interface OutboundAllowList {
  readonly entries: readonly string[];
  readonly hosts: readonly { readonly host: string; readonly port: number | undefined }[];
  readonly addresses: readonly {
    readonly range: readonly [IpAddress, number];
    readonly port: number | undefined;
    /** One address written out (not a range): the only way to allow a cloud metadata address. */
    readonly single: boolean;
  }[];
}

export const NO_OUTBOUND_ALLOWANCES: OutboundAllowList = Object.freeze({ entries: [], hosts: [], addresses: [] });

/** A bad `OUTBOUND_ALLOW` entry; config.ts reports it naming the variable. */
export class OutboundAllowListError extends Error {}

/** `OUTBOUND_ALLOW=api.internal.example:8443,127.0.0.1:4010,10.20.0.0/16,[::1]:9000,ollama.lan` */
export function parseOutboundAllow(text: string): OutboundAllowList {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const hosts: OutboundAllowList['hosts'][number][] = [];
  const addresses: OutboundAllowList['addresses'][number][] = [];
  for (const entry of entries) {
    if (entry.includes('/')) {
      addresses.push({ range: parseCidr(entry), port: undefined, single: false });
      continue;
    }
    const { host, port } = splitPort(entry);
    const address = parseIpAddress(host);
    if (address) {
      const bits = address.kind() === 'ipv4' ? 32 : 128;
      addresses.push({ range: [address, bits], port, single: true });
    } else {
      hosts.push({ host: normalizeAllowedName(entry, host), port });
    }
  }
  return Object.freeze({
    entries: Object.freeze(entries),
    hosts: Object.freeze(hosts),
    addresses: Object.freeze(addresses),
  });
}

function parseCidr(entry: string): readonly [IpAddress, number] {
  const [network = '', prefix = ''] = entry.split('/');
  // isIP first: ipaddr.js alone would also take `127.1/8` or `0x7f.1/8`, which no operator means.
  if (!parseIpAddress(network) || !/^\d{1,3}$/.test(prefix) || !ipaddr.isValidCIDR(entry)) {
    throw new OutboundAllowListError(`has a bad CIDR entry "${entry}" (expected e.g. 10.0.0.0/8 or fd00::/8)`);
  }
  return ipaddr.parseCIDR(entry);
}

/** `host:port`, `[v6]:port`, `[v6]`, a bare IPv6 address, or a host without a port. */
function splitPort(entry: string): { host: string; port: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: readPort(entry, bracketed[2]) };
  if (entry.indexOf(':') !== entry.lastIndexOf(':')) return { host: entry, port: undefined };
  const colon = entry.indexOf(':');
  if (colon === -1) return { host: entry, port: undefined };
  return { host: entry.slice(0, colon), port: readPort(entry, entry.slice(colon + 1)) };
}

function readPort(entry: string, digits: string | undefined): number | undefined {
  if (digits === undefined) return undefined;
  const port = /^\d{1,5}$/.test(digits) ? Number(digits) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new OutboundAllowListError(`has a bad port in "${entry}"`);
  return port;
}

/** The name as request URLs will present it: WHATWG URL's host parsing, lower case, no trailing dot. */
function normalizeAllowedName(entry: string, host: string): string {
  let hostname: string;
  try {
    hostname = new URL(`http://${host}/`).hostname;
  } catch {
    hostname = '';
  }
  const name = withoutTrailingDots(hostname);
  if (name === '' || !/^[a-z0-9._-]+$/.test(name)) {
    throw new OutboundAllowListError(`has a bad host entry "${entry}" (expected host, host:port, IP or CIDR)`);
  }
  // `127.1` or `0x7f000001` would otherwise be kept as a name that URL parsing turns into an IP.
  if (parseIpAddress(name)) {
    throw new OutboundAllowListError(`has "${entry}": write IP addresses in their usual form (e.g. ${name})`);
  }
  return name;
}

export function withoutTrailingDots(name: string): string {
  let end = name.length;
  while (end > 0 && name[end - 1] === '.') end -= 1;
  return name.slice(0, end);
}
