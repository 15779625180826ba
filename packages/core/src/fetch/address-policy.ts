import net from 'node:net';
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';

type IP = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = readonly [IP, number];

/**
 * What the operator lets through despite the range rules (`IMAGE_FETCH_ALLOW`, empty by default):
 * hostnames, compared exactly (case-insensitive, without a trailing dot), and address ranges.
 * Built by `parseAllowList`; an allowed host may resolve to any address, an allowed address is
 * allowed whatever host it came from.
 */
export interface AllowList {
  readonly hosts: ReadonlySet<string>;
  readonly ranges: readonly Cidr[];
  /** The entries as given, for logs. */
  readonly entries: readonly string[];
}

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

const cidr = (text: string): Cidr => ipaddr.parseCIDR(text);

// Ranges ipaddr.js files under a broader name ('reserved') or does not know; looked at first so
// that a refusal names what the range is for.
const V4_NAMED: readonly [Cidr, string][] = [
  [cidr('198.18.0.0/15'), 'reserved for benchmarking'], // RFC 2544
  [cidr('192.0.2.0/24'), 'reserved for documentation'], // RFC 5737 TEST-NET-1
  [cidr('198.51.100.0/24'), 'reserved for documentation'], // TEST-NET-2
  [cidr('203.0.113.0/24'), 'reserved for documentation'], // TEST-NET-3
];
const V6_NAMED: readonly [Cidr, string][] = [
  [cidr('2001:db8::/32'), 'reserved for documentation'], // RFC 3849
  [cidr('3fff::/20'), 'reserved for documentation'], // RFC 9637 (2024), unknown to ipaddr.js
];

// Only 2000::/3 is allocated as global unicast. What ipaddr.js calls 'unicast' is merely "no
// special range it knows", which includes unallocated space such as the deprecated
// IPv4-compatible ::a.b.c.d, site-local fec0::/10 and the local-use NAT64 prefix 64:ff9b:1::/48.
const V6_GLOBAL_UNICAST = cidr('2000::/3');

// The cloud metadata service (AWS, GCP, Azure, ...): the address an SSRF is usually after.
const METADATA_V4 = '169.254.169.254';

const RANGE_NAMES: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT (shared address space)',
  private: 'private',
  uniqueLocal: 'private (unique local)',
  reserved: 'reserved',
  benchmarking: 'reserved for benchmarking',
  discard: 'a discard prefix',
};

/** Why a range is refused, in words; null for public unicast. */
type Judgement = string | null;

function judgeV4(address: ipaddr.IPv4): Judgement {
  for (const [[base, bits], name] of V4_NAMED) if (address.match(base, bits)) return name;
  const range = address.range();
  if (range === 'unicast') return null;
  if (range === 'linkLocal' && address.toString() === METADATA_V4) {
    return 'link-local (the cloud metadata service)';
  }
  return RANGE_NAMES[range] ?? `special-purpose (${range})`;
}

function v4From(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** A v6 address that carries a v4 one is as reachable as that v4 address: judge the v4. */
function judgeEmbedded(kind: string, embedded: readonly ipaddr.IPv4[]): Judgement {
  for (const v4 of embedded) {
    const judgement = judgeV4(v4);
    if (judgement !== null) return `${judgement} (${kind} embedding ${v4.toString()})`;
  }
  return null;
}

function judgeV6(address: ipaddr.IPv6): Judgement {
  const p = address.parts;
  const part = (i: number) => p[i] ?? 0;
  for (const [[base, bits], name] of V6_NAMED) if (address.match(base, bits)) return name;
  const range = address.range();
  switch (range) {
    case 'ipv4Mapped':
      return judgeEmbedded('IPv4-mapped', [address.toIPv4Address()]);
    case 'rfc6145': // ::ffff:0:a.b.c.d, IPv4-translated (SIIT)
      return judgeEmbedded('IPv4-translated', [v4From(part(6), part(7))]);
    case 'rfc6052': // 64:ff9b::a.b.c.d: a NAT64 gateway (DNS64 answers these on IPv6-only hosts)
      return judgeEmbedded('NAT64', [v4From(part(6), part(7))]);
    case '6to4': // 2002:AABB:CCDD::/48 routes to AA.BB.CC.DD
      return judgeEmbedded('6to4', [v4From(part(1), part(2))]);
    case 'teredo':
      // 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC: the Teredo server, then the client's public
      // address with every bit inverted (RFC 4380 section 4).
      return judgeEmbedded('Teredo', [
        v4From(part(2), part(3)),
        v4From(part(6) ^ 0xffff, part(7) ^ 0xffff),
      ]);
    case 'unicast':
      return address.match(...V6_GLOBAL_UNICAST) ? null : 'outside global unicast (2000::/3)';
    default:
      return RANGE_NAMES[range] ?? `special-purpose (${range})`;
  }
}

function parseIp(text: string): IP | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Strictly: dotted-quad v4 or v6. ipaddr.parse would also take '127.1' or '0x7f.1', but every
  // address here comes from a resolver or from WHATWG URL, which already normalised such forms.
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (!net.isIPv6(bare)) return null;
  // ipaddr.js 2.3 reads any dotted suffix as IPv4-mapped ('::127.0.0.1' as '::ffff:127.0.0.1').
  // WHATWG URL writes v6 in plain hex ('::7f00:1'), which it parses right. URLs have no zone
  // ids: the zone of a link-local address changes nothing about its range.
  const [address = '', zone] = bare.split('%');
  const hex = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const parsed = ipaddr.IPv6.parse(hex);
  if (zone !== undefined) parsed.zoneId = zone;
  return parsed;
}

/** The v4 address an IPv4-mapped v6 one stands for; any other address as it is. */
function unmapped(address: IP): IP {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Whether a request may go to `ip`: only public unicast addresses may, unless the operator's
 * allow list names the address (or a range holding it) or `host`, the name it was resolved from.
 * An IPv4-mapped v6 address (::ffff:127.0.0.1) is judged as its v4 address; 6to4, Teredo, NAT64
 * and IPv4-translated addresses by the v4 addresses they embed.
 */
export function checkAddress(ip: string, allow: AllowList, host?: string): AddressVerdict {
  const where = host !== undefined && host !== ip ? ` of host ${host}` : '';
  const parsed = parseIp(ip);
  if (!parsed) return { allowed: false, reason: `address "${ip}"${where} is not an IP address` };
  if (host !== undefined && allow.hosts.has(normaliseHost(host))) return { allowed: true };
  // An allowed v4 address is allowed however it is spelled, ::ffff:127.0.0.1 included.
  const address = unmapped(parsed);
  for (const [base, bits] of allow.ranges) {
    if (base.kind() === address.kind() && address.match(base, bits)) return { allowed: true };
  }
  const judgement =
    parsed.kind() === 'ipv4' ? judgeV4(parsed as ipaddr.IPv4) : judgeV6(parsed as ipaddr.IPv6);
  if (judgement === null) return { allowed: true };
  return { allowed: false, reason: `address ${ip}${where} is ${judgement}` };
}

// One DNS label: letters, digits, hyphens inside, 63 at most; underscores appear in real names
// (service records, some CDNs) and are harmless in an exact match.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * The operator's allow list from its entries (`IMAGE_FETCH_ALLOW` split on commas): hostnames,
 * single addresses (v4 dotted-quad, v6, optionally in brackets) and CIDRs. Blank entries are
 * skipped, so an empty variable gives an empty list. Anything else throws, naming the entry:
 * a typo here would otherwise silently refuse (or allow) the wrong thing.
 */
export function parseAllowList(entries: readonly string[]): AllowList {
  const hosts = new Set<string>();
  const ranges: Cidr[] = [];
  const kept: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    kept.push(entry);
    if (entry.includes('/') && parseIp(entry.slice(0, entry.indexOf('/')))) {
      ranges.push(parseCidrEntry(entry));
      continue;
    }
    const ip = parseIp(entry);
    if (ip) {
      ranges.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
      continue;
    }
    hosts.add(parseHostEntry(entry));
  }
  return { hosts, ranges, entries: kept };
}

function parseCidrEntry(entry: string): Cidr {
  const [base = '', bits = ''] = entry.split('/');
  const address = parseIp(base);
  const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  const max = address?.kind() === 'ipv4' ? 32 : 128;
  if (!address || !(prefix >= 0 && prefix <= max) || entry.split('/').length !== 2) {
    throw new Error(
      `fetch allow list: "${entry}" is not a valid CIDR (e.g. 10.1.0.0/16, fd00::/8)`,
    );
  }
  return [address, prefix];
}

function parseHostEntry(entry: string): string {
  const host = normaliseHost(domainToASCII(entry) || entry);
  const labels = host.split('.');
  const last = labels[labels.length - 1] ?? '';
  // WHATWG URL reads a name whose last label is numeric ('127.1', '0x7f.1') as an IPv4 address,
  // so such an entry could never match a host: it is a mistyped address.
  const numeric = /^(?:0x[0-9a-f]*|\d+)$/.test(last);
  if (host.length > 253 || numeric || !labels.every((label) => LABEL.test(label))) {
    throw new Error(
      `fetch allow list: "${entry}" is not a hostname, an IP address or a CIDR ` +
        '(IPv4 addresses are written as four decimal numbers)',
    );
  }
  return host;
}
