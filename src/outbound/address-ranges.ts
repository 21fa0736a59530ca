import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

/**
 * Which IP addresses the outbound client may connect to. Addresses are judged as parsed values,
 * never as text: the caller hands over what WHATWG URL parsing or a DNS answer produced, which
 * `parseIpAddress` accepts only in the canonical dotted-quad / RFC 4291 forms (`isIP`), so
 * `0x7f000001`, `127.1` and `2130706433` arrive here already as `127.0.0.1` (URL parsing) or are
 * not addresses at all (a DNS answer that is not an IP is refused by the caller).
 */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

export function parseIpAddress(text: string): IpAddress | null {
  const family = isIP(text);
  if (family === 4) return ipaddr.IPv4.parse(text);
  if (family === 6) return ipaddr.IPv6.parse(text);
  return null;
}

type Range = readonly [network: string, prefix: number, name: string];

/** IPv4 special-purpose ranges (RFC 6890 and the IANA registry) no outbound request may reach. */
const BLOCKED_IPV4: readonly Range[] = [
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade-nat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'ietf-protocol-assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4-relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  // 240.0.0.0/4 includes the limited broadcast address 255.255.255.255.
  ['240.0.0.0', 4, 'reserved'],
];

/**
 * IPv6 is judged the other way round: only global unicast (2000::/3) is public, less these
 * ranges inside it. Everything outside 2000::/3 (::, ::1, fc00::/7 ULA, fe80::/10 link-local,
 * fec0::/10, ff00::/8 multicast, 100::/64 discard…) is blocked unless it embeds an IPv4 address,
 * which is then judged instead (see `embeddedIPv4`).
 */
const GLOBAL_UNICAST: Range = ['2000::', 3, 'global-unicast'];
const BLOCKED_INSIDE_GLOBAL_UNICAST: readonly Range[] = [
  // Includes Teredo (2001::/32), whose embedded IPv4 is obfuscated and whose relay is not ours.
  ['2001::', 23, 'ietf-protocol-assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
];

/** Cloud instance-metadata endpoints: blocked even when a CIDR entry of OUTBOUND_ALLOW covers them. */
const CLOUD_METADATA: readonly string[] = ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200'];

function parsedRanges(ranges: readonly Range[]) {
  return ranges.map(([network, prefix, name]) => ({ range: [ipaddr.parse(network), prefix] as const, name }));
}
const IPV4_RANGES = parsedRanges(BLOCKED_IPV4);
const IPV6_INSIDE_RANGES = parsedRanges(BLOCKED_INSIDE_GLOBAL_UNICAST);
const [GLOBAL_UNICAST_RANGE] = parsedRanges([GLOBAL_UNICAST]);
const METADATA = CLOUD_METADATA.map((address) => ipaddr.parse(address).toNormalizedString());

function matches(address: IpAddress, range: readonly [IpAddress, number]): boolean {
  return address.kind() === range[0].kind() && address.match([range[0], range[1]] as [IpAddress, number]);
}

/**
 * The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one:
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d, deprecated), NAT64 (64:ff9b::/96,
 * RFC 6052) and 6to4 (2002:AABB:CCDD::/48). A connection to such an address reaches (or is
 * translated to) that IPv4 address, so it gets that address's verdict.
 */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const bytes = address.toByteArray();
  const tail = () => new ipaddr.IPv4(bytes.slice(12, 16));
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (bytes.slice(0, 12).every((byte) => byte === 0)) return tail();
  if (address.match(ipaddr.IPv6.parse('64:ff9b::'), 96)) return tail();
  if (address.match(ipaddr.IPv6.parse('2002::'), 16)) return new ipaddr.IPv4(bytes.slice(2, 6));
  return null;
}

/** The range that blocks this address (`loopback`, `private`, `cloud-metadata`…), or null if it is public. */
export function blockedRange(address: IpAddress): string | null {
  if (isCloudMetadata(address)) return 'cloud-metadata';
  if (address.kind() === 'ipv4') {
    return IPV4_RANGES.find(({ range }) => matches(address, range))?.name ?? null;
  }
  const ipv6 = address as ipaddr.IPv6;
  const text = ipv6.toNormalizedString();
  // :: and ::1 are inside ::/96 (IPv4-compatible) but mean this host, not 0.0.0.0/0.0.0.1.
  if (text === '0:0:0:0:0:0:0:0') return 'unspecified';
  if (text === '0:0:0:0:0:0:0:1') return 'loopback';
  const ipv4 = embeddedIPv4(ipv6);
  if (ipv4) return blockedRange(ipv4);
  if (!GLOBAL_UNICAST_RANGE || !matches(ipv6, GLOBAL_UNICAST_RANGE.range)) return 'non-global-ipv6';
  return IPV6_INSIDE_RANGES.find(({ range }) => matches(ipv6, range))?.name ?? null;
}

export function isCloudMetadata(address: IpAddress): boolean {
  const direct = address.toNormalizedString();
  const ipv4 = address.kind() === 'ipv6' ? embeddedIPv4(address as ipaddr.IPv6) : null;
  return METADATA.includes(direct) || (ipv4 !== null && METADATA.includes(ipv4.toNormalizedString()));
}

/** An IPv4-mapped IPv6 address as the IPv4 address it is (how a dual-stack socket reports IPv4 peers). */
export function unmapped(address: IpAddress): IpAddress {
  const ipv6 = address as ipaddr.IPv6;
  return address.kind() === 'ipv6' && ipv6.isIPv4MappedAddress() ? ipv6.toIPv4Address() : address;
}

export function addressInRange(address: IpAddress, range: readonly [IpAddress, number]): boolean {
  return matches(unmapped(address), range);
}
