import { describe, expect, it } from 'vitest';
import { checkAddress, parseAllowList } from './address-policy.js';

const none = parseAllowList([]);

function reasonFor(ip: string, allow = none, host?: string): string {
  const verdict = checkAddress(ip, allow, host);
  if (verdict.allowed) throw new Error(`${ip} was allowed`);
  return verdict.reason;
}

describe('checkAddress', () => {
  it.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['93.184.216.34'],
    ['172.32.0.1'], // just past 172.16/12
    ['100.128.0.1'], // just past 100.64/10
    ['2606:4700:4700::1111'],
    ['2a00:1450:4001:82b::200e'],
    ['::ffff:8.8.8.8'], // IPv4-mapped public
    ['64:ff9b::808:808'], // NAT64 of 8.8.8.8
    ['2002:808:808::1'], // 6to4 of 8.8.8.8
  ])('allows public unicast %s', (ip) => {
    expect(checkAddress(ip, none)).toEqual({ allowed: true });
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private (unique local)'],
    ['fd12:3456:789a::1', 'private (unique local)'],
    ['169.254.0.1', 'link-local'],
    ['169.254.169.254', 'link-local (the cloud metadata service)'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT (shared address space)'],
    ['100.127.255.255', 'carrier-grade NAT (shared address space)'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['198.18.0.1', 'reserved for benchmarking'],
    ['198.19.255.255', 'reserved for benchmarking'],
    ['192.0.2.1', 'reserved for documentation'],
    ['198.51.100.7', 'reserved for documentation'],
    ['203.0.113.9', 'reserved for documentation'],
    ['2001:db8::1', 'reserved for documentation'],
    ['3fff::1', 'reserved for documentation'],
    ['::127.0.0.1', 'outside global unicast (2000::/3)'], // deprecated IPv4-compatible
    ['::7f00:1', 'outside global unicast (2000::/3)'],
    ['fec0::1', 'outside global unicast (2000::/3)'], // deprecated site-local
    ['64:ff9b:1::a00:5', 'outside global unicast (2000::/3)'], // local-use NAT64
  ])('refuses %s as %s', (ip, what) => {
    expect(reasonFor(ip)).toBe(`address ${ip} is ${what}`);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback (IPv4-mapped embedding 127.0.0.1)'],
    ['::ffff:7f00:1', 'loopback (IPv4-mapped embedding 127.0.0.1)'],
    [
      '::ffff:169.254.169.254',
      'link-local (the cloud metadata service) (IPv4-mapped embedding 169.254.169.254)',
    ],
    ['::ffff:10.0.0.5', 'private (IPv4-mapped embedding 10.0.0.5)'],
    ['::ffff:0:10.0.0.5', 'private (IPv4-translated embedding 10.0.0.5)'],
    ['64:ff9b::a00:5', 'private (NAT64 embedding 10.0.0.5)'],
    ['64:ff9b::7f00:1', 'loopback (NAT64 embedding 127.0.0.1)'],
    ['2002:a00:5::1', 'private (6to4 embedding 10.0.0.5)'],
    [
      '2002:a9fe:a9fe::',
      'link-local (the cloud metadata service) (6to4 embedding 169.254.169.254)',
    ],
    // RFC 4380's own example: server 65.54.227.120, client 192.0.2.45 (bits inverted).
    [
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      'reserved for documentation (Teredo embedding 192.0.2.45)',
    ],
    // Server 10.0.0.1 (private), client 8.8.8.8.
    ['2001:0:a00:1::f7f7:f7f7', 'private (Teredo embedding 10.0.0.1)'],
  ])('judges %s by the IPv4 address it embeds', (ip, what) => {
    expect(reasonFor(ip)).toBe(`address ${ip} is ${what}`);
  });

  it('allows a Teredo address whose server and client are public', () => {
    // Server 65.54.227.120, client 8.8.8.8 (inverted: f7f7:f7f7).
    expect(checkAddress('2001:0:4136:e378:8000:63bf:f7f7:f7f7', none)).toEqual({ allowed: true });
  });

  it('names the host in the reason when it is given', () => {
    expect(reasonFor('10.0.0.5', none, 'foo.example')).toBe(
      'address 10.0.0.5 of host foo.example is private',
    );
  });

  it('refuses what is not an IP address instead of guessing', () => {
    expect(reasonFor('localhost')).toBe('address "localhost" is not an IP address');
    expect(reasonFor('127.1')).toBe('address "127.1" is not an IP address');
    expect(reasonFor('')).toBe('address "" is not an IP address');
  });

  it('lets the allow list through: addresses, ranges and hosts', () => {
    const allow = parseAllowList(['127.0.0.1', '10.1.0.0/16', 'fd00::/8', 'Images.Internal.']);
    expect(checkAddress('127.0.0.1', allow)).toEqual({ allowed: true });
    expect(checkAddress('::ffff:127.0.0.1', allow)).toEqual({ allowed: true });
    expect(checkAddress('10.1.200.3', allow)).toEqual({ allowed: true });
    expect(checkAddress('fd12::1', allow)).toEqual({ allowed: true });
    expect(checkAddress('10.0.0.5', allow, 'images.internal')).toEqual({ allowed: true });
    expect(checkAddress('10.0.0.5', allow, 'IMAGES.internal.')).toEqual({ allowed: true });
    // Only exactly what is listed.
    expect(reasonFor('127.0.0.2', allow)).toBe('address 127.0.0.2 is loopback');
    expect(reasonFor('10.2.0.1', allow)).toBe('address 10.2.0.1 is private');
    expect(reasonFor('10.0.0.5', allow, 'cdn.images.internal')).toBe(
      'address 10.0.0.5 of host cdn.images.internal is private',
    );
  });
});

describe('parseAllowList', () => {
  it('is empty for no entries and skips blanks (an unset variable split on commas)', () => {
    expect(parseAllowList([]).entries).toEqual([]);
    const list = parseAllowList(''.split(','));
    expect(list.hosts.size).toBe(0);
    expect(list.ranges).toHaveLength(0);
  });

  it('reads hosts, addresses and CIDRs', () => {
    const list = parseAllowList([
      ' cdn.example ',
      '192.168.0.10',
      '[::1]',
      '172.16.0.0/12',
      'bücher.example',
    ]);
    expect([...list.hosts]).toEqual(['cdn.example', 'xn--bcher-kva.example']);
    expect(list.ranges.map(([base, bits]) => `${base.toString()}/${bits}`)).toEqual([
      '192.168.0.10/32',
      '::1/128',
      '172.16.0.0/12',
    ]);
    expect(list.entries).toEqual([
      'cdn.example',
      '192.168.0.10',
      '[::1]',
      '172.16.0.0/12',
      'bücher.example',
    ]);
  });

  it.each([
    ['10.0.0.0/33', 'not a valid CIDR'],
    ['10.0.0.0/', 'not a valid CIDR'],
    ['10.0.0/8', 'not a hostname, an IP address or a CIDR'],
    ['fd00::/129', 'not a valid CIDR'],
    ['10.0.0.0/8/8', 'not a valid CIDR'],
    ['127.1', 'not a hostname, an IP address or a CIDR'],
    ['0x7f.0.0.1', 'not a hostname, an IP address or a CIDR'],
    ['300.1.1.1', 'not a hostname, an IP address or a CIDR'],
    ['http://cdn.example', 'not a hostname, an IP address or a CIDR'],
    ['cdn.example:8080', 'not a hostname, an IP address or a CIDR'],
    ['*.example.com', 'not a hostname, an IP address or a CIDR'],
    ['-bad.example', 'not a hostname, an IP address or a CIDR'],
  ])('throws for %s, naming it', (entry, what) => {
    expect(() => parseAllowList(['cdn.example', entry])).toThrow(`"${entry}" is ${what}`);
  });
});
