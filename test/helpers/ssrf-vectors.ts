import type { LookupAddress } from 'node:dns';
import net, { type LookupFunction } from 'node:net';
import type { OutboundRefusal } from '../../src/outbound/outbound-error.js';

/**
 * reliability.md T18 as data, for every surface that takes a URL from a user, an agent or a
 * model (the outbound client itself, external tools, `http_request`, OpenAPI import by URL…): each
 * must refuse every vector before any socket opens to the target. `reason` is what the outbound
 * client reports; a surface may wrap it (e.g. 422 `url_not_allowed`). Names are answered by the
 * stub resolver below (`SSRF_DNS_RECORDS`): there is no outside network in tests.
 */
export interface SsrfVector {
  readonly label: string;
  readonly url: string;
  readonly reason: OutboundRefusal;
}

/** An address that is public by every rule (a TEST-NET would be blocked as documentation). No test ever connects to it. */
export const PUBLIC_TEST_ADDRESS = '93.184.215.14';

/** What the stub resolver answers for the names in the vectors. */
export const SSRF_DNS_RECORDS: Readonly<Record<string, readonly string[]>> = {
  // A name whose A record is private (the counting listener's own address).
  'private-record.ssrf.test': ['127.0.0.1'],
  // One public and one private answer: refused as a whole.
  'mixed-records.ssrf.test': [PUBLIC_TEST_ADDRESS, '127.0.0.1'],
  'mixed-aaaa.ssrf.test': ['2001:4860:4860::8888', 'fd00::1'],
  'metadata-record.ssrf.test': ['169.254.169.254'],
  'mapped-record.ssrf.test': ['::ffff:127.0.0.1'],
  'public-record.ssrf.test': [PUBLIC_TEST_ADDRESS],
};

function vector(reason: OutboundRefusal, url: string, label = url): SsrfVector {
  return { label, url, reason };
}

/**
 * The vectors; `listenerPort` is the port of a counting loopback listener (see
 * `startCountingListener`), used by the spellings of 127.0.0.1 that name a port, so a guard that
 * failed open would reach something that counts it.
 */
export function ssrfVectors(listenerPort: number): SsrfVector[] {
  const port = String(listenerPort);
  return [
    vector('address', 'http://127.0.0.1:6379/'),
    vector('address', `http://127.0.0.1:${port}/`, 'http://127.0.0.1:<listener>/'),
    vector('host', 'http://localhost'),
    vector('host', `http://localhost:${port}/`, 'http://localhost:<listener>/'),
    vector('host', 'http://localhost./', 'trailing dot on localhost'),
    vector('host', 'http://LOCALHOST/', 'upper-case localhost'),
    vector('host', 'http://app.localhost/', '.localhost'),
    vector('host', 'http://metadata.google.internal/computeMetadata/v1/', '.internal'),
    vector('host', 'http://printer.local/', '.local'),
    vector('host', 'http://redis:6379/', 'single-label name'),
    vector('address', 'http://127.1'),
    vector('address', 'http://127.0.0.1./', 'trailing dot on an IPv4 address'),
    vector('address', 'http://0.0.0.0'),
    vector('address', 'http://0/'),
    vector('address', 'http://2130706433'),
    vector('address', `http://2130706433:${port}/`, 'decimal 127.0.0.1 on the listener port'),
    vector('address', 'http://0x7f000001'),
    vector('address', 'http://017700000001'),
    vector('address', 'http://0x7f.0.0.1/', 'hex first octet'),
    vector('address', 'http://2852039166/latest/meta-data/', 'decimal 169.254.169.254'),
    vector('address', 'http://[::1]'),
    vector('address', 'http://[::]'),
    vector('address', 'http://[::ffff:127.0.0.1]'),
    vector('address', `http://[::ffff:127.0.0.1]:${port}/`, 'IPv4-mapped 127.0.0.1 on the listener port'),
    vector('address', 'http://[::ffff:7f00:1]'),
    vector('address', 'http://[::ffff:a9fe:a9fe]'),
    vector('address', 'http://[::ffff:169.254.169.254]'),
    vector('address', 'http://[::127.0.0.1]/', 'IPv4-compatible IPv6'),
    vector('address', 'http://[64:ff9b::7f00:1]/', 'NAT64 of 127.0.0.1'),
    vector('address', 'http://[2002:7f00:1::]/', '6to4 of 127.0.0.1'),
    vector('address', 'http://169.254.169.254/latest/meta-data/'),
    vector('address', 'http://[fd00:ec2::254]/', 'AWS IMDS over IPv6'),
    vector('address', 'http://[fd00::1]'),
    vector('address', 'http://[fe80::1]/', 'IPv6 link-local'),
    vector('address', 'http://[ff02::1]/', 'IPv6 multicast'),
    vector('address', 'http://10.0.0.1'),
    vector('address', 'http://172.16.0.1'),
    vector('address', 'http://192.168.0.1'),
    vector('address', 'http://100.64.0.1', 'CGNAT'),
    vector('address', 'http://198.18.0.1', 'benchmarking'),
    vector('address', 'http://192.0.2.1/', 'documentation'),
    vector('address', 'http://224.0.0.1/', 'multicast'),
    vector('address', 'http://255.255.255.255/', 'broadcast'),
    vector('address', 'http://user@127.0.0.1'),
    vector('address', 'http://evil.test@127.0.0.1'),
    vector('address', 'http://private-record.ssrf.test/', 'a name whose A record is private'),
    vector('address', 'http://mixed-records.ssrf.test/', 'a name with one public and one private A answer'),
    vector('address', 'http://mixed-aaaa.ssrf.test/', 'a name with one public and one private AAAA answer'),
    vector('address', 'http://metadata-record.ssrf.test/', 'a name whose A record is the metadata address'),
    vector('address', 'http://mapped-record.ssrf.test/', 'a name whose AAAA record is IPv4-mapped loopback'),
    vector('scheme', 'file:///etc/passwd'),
    vector('scheme', 'gopher://127.0.0.1:6379/_INFO', 'gopher://'),
    vector('scheme', 'ftp://127.0.0.1/', 'ftp://'),
    vector('scheme', 'data:text/plain,hello', 'data:'),
    vector('port', 'http://public-record.ssrf.test:22/', 'a public host on port 22'),
    vector('port', `http://${PUBLIC_TEST_ADDRESS}:6379/`, 'a public address on port 6379'),
    vector('userinfo', 'http://user:secret@public-record.ssrf.test/', 'credentials in the URL'),
  ];
}

/**
 * A resolver with Node's `dns.lookup` signature that answers from a table (an unknown name is
 * ENOTFOUND) and records every query. A name's entry may be a list of answers per query, for
 * rebinding: the first query gets the first list, and so on (the last list repeats).
 */
export function createStubResolver(records: Readonly<Record<string, readonly string[] | readonly string[][]>>) {
  const queries: string[] = [];
  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const turn = queries.filter((query) => query === hostname).length;
    queries.push(hostname);
    const entry = records[hostname];
    const answers =
      entry && Array.isArray(entry[0])
        ? (entry as string[][])[Math.min(turn, entry.length - 1)]!
        : (entry as string[] | undefined);
    queueMicrotask(() => {
      if (!answers)
        return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
      const all: LookupAddress[] = answers.map((address) => ({ address, family: net.isIP(address) }));
      if (options.all) callback(null, all);
      else callback(null, all[0]!.address, all[0]!.family);
    });
  }) as LookupFunction;
  return { lookup, queries };
}

/** A TCP listener that only counts the connections it gets (and closes them). */
export async function startCountingListener(host = '127.0.0.1', port = 0) {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}
