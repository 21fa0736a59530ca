import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { blockedRange, parseIpAddress } from '../../src/outbound/address-ranges.js';
import { parseOutboundAllow } from '../../src/outbound/allow-list.js';
import { checkAnswers, checkUrl } from '../../src/outbound/destination-policy.js';

/** The outbound rules on their own: which addresses are public, and what OUTBOUND_ALLOW lets through. */

function reasonOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return (error as { reason?: string }).reason ?? String(error);
  }
}

describe('address ranges', () => {
  it.each([
    ['8.8.8.8', null],
    ['1.1.1.1', null],
    ['2001:4860:4860::8888', null],
    ['::ffff:8.8.8.8', null],
    ['64:ff9b::808:808', null],
    ['2002:808:808::1', null],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'cloud-metadata'],
    ['::ffff:a9fe:a9fe', 'cloud-metadata'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['100.100.100.200', 'cloud-metadata'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', null],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['100.128.0.1', null],
    ['198.19.255.255', 'benchmarking'],
    ['203.0.113.9', 'documentation'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'ietf-protocol-assignments'],
    ['fc00::1', 'non-global-ipv6'],
    ['fe80::1', 'non-global-ipv6'],
    ['ff02::1', 'non-global-ipv6'],
    ['::ffff:10.0.0.1', 'private'],
    ['::10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:a00:1::', 'private'],
  ])('%s is %s', (address, range) => {
    expect(blockedRange(parseIpAddress(address)!)).toBe(range);
  });

  it('does not take non-canonical spellings as addresses (URL parsing normalises those first)', () => {
    expect(['127.1', '0x7f000001', '2130706433', '017700000001', '127.0.0.1.'].map(parseIpAddress)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('OUTBOUND_ALLOW', () => {
  const allow = parseOutboundAllow(
    ' tools.corp.example:8443 , localhost:4010,127.0.0.1:4020,10.20.0.0/16,[::1]:9000,169.254.0.0/16,192.168.1.1 ',
  );

  it('parses host, host:port, IP, IP:port and CIDR entries', () => {
    expect(allow.entries).toHaveLength(7);
    expect(allow.hosts).toEqual([
      { host: 'tools.corp.example', port: 8443 },
      { host: 'localhost', port: 4010 },
    ]);
    expect(
      allow.addresses.map((entry) => [entry.range[0].toString(), entry.range[1], entry.port, entry.single]),
    ).toEqual([
      ['127.0.0.1', 32, 4020, true],
      ['10.20.0.0', 16, undefined, false],
      ['::1', 128, 9000, true],
      ['169.254.0.0', 16, undefined, false],
      ['192.168.1.1', 32, undefined, true],
    ]);
  });

  it('allows what it names, and only that', () => {
    const check = (url: string) => reasonOf(() => checkUrl(url, allow));
    expect(check('https://tools.corp.example:8443/run')).toBeNull();
    expect(check('https://tools.corp.example/run')).toBeNull(); // public name on 443
    // Another port of the name: an address entry (10.20.0.0/16, any port) could still allow what it
    // resolves to, so the verdict waits for DNS, where a public answer is refused for its port.
    expect(check('https://tools.corp.example:8444/run')).toBeNull();
    expect(reasonOf(() => checkAnswers({ port: 8444, named: false }, ['8.8.8.8'], allow))).toBe('port');
    expect(reasonOf(() => checkUrl('https://api.example.com:8444/', parseOutboundAllow('')))).toBe('port');
    expect(check('http://localhost:4010/')).toBeNull();
    expect(check('http://localhost:4011/')).toBe('host');
    expect(check('http://127.0.0.1:4020/')).toBeNull();
    expect(check('http://127.0.0.1:4021/')).toBe('address');
    expect(check('http://10.20.3.4:5432/')).toBeNull();
    expect(check('http://10.21.0.1/')).toBe('address');
    expect(check('http://[::1]:9000/')).toBeNull();
    expect(check('http://[::ffff:192.168.1.1]:81/')).toBeNull();
    // A range never allows a metadata address; only writing it out does.
    expect(check('http://169.254.169.254/')).toBe('address');
    expect(check('http://169.254.1.1/')).toBeNull();
    expect(reasonOf(() => checkUrl('http://169.254.169.254/', parseOutboundAllow('169.254.169.254')))).toBeNull();
  });

  it('judges every DNS answer of a name, accepting all answers of a named host', () => {
    expect(reasonOf(() => checkAnswers({ port: 443, named: false }, ['8.8.8.8', '10.20.0.5'], allow))).toBeNull();
    expect(reasonOf(() => checkAnswers({ port: 443, named: false }, ['8.8.8.8', '10.21.0.5'], allow))).toBe('address');
    expect(reasonOf(() => checkAnswers({ port: 443, named: false }, [], allow))).toBe('dns');
    expect(reasonOf(() => checkAnswers({ port: 443, named: false }, ['0x7f000001'], allow))).toBe('dns');
    expect(reasonOf(() => checkAnswers({ port: 8443, named: true }, ['10.99.0.1'], allow))).toBeNull();
  });

  it('is read by loadConfig, and a bad entry names the variable', () => {
    expect(loadConfig({}).outbound.allow.entries).toEqual([]);
    expect(loadConfig({ OUTBOUND_ALLOW: '127.0.0.1:4010' }).outbound.allow.addresses).toHaveLength(1);
    for (const bad of [
      '10.0.0.0/33',
      '127.1/8',
      'host:0',
      'host:99999',
      'bad host',
      '0x7f000001',
      'http://x.example',
    ]) {
      expect(() => loadConfig({ OUTBOUND_ALLOW: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ OUTBOUND_ALLOW: bad }), bad).toThrow(/^Invalid configuration: OUTBOUND_ALLOW /);
    }
  });
});
