import { isIPv4, isIPv6 } from 'node:net'

/**
 * The key a client IP is limited under. IPv6 clients are grouped by their /64 (one subscriber's
 * network), otherwise a single host could rotate through 2^64 addresses and never be limited.
 */
export function clientKey(ip: string): string {
  // An IPv4 address has no colon: it is its own key, without the IPv6 pattern's cost.
  if (!ip.includes(':') || !isIPv6(ip)) return ip
  const address = ip.toLowerCase().split('%')[0]!
  const mapped = /^::ffff:(.+)$/.exec(address)?.[1]
  if (mapped && isIPv4(mapped)) return mapped
  const [head = '', tail] = address.split('::')
  const headParts = head === '' ? [] : head.split(':')
  const tailCount = tail === undefined || tail === '' ? 0 : tail.split(':').length
  // `::` stands for as many zero groups as are missing; only the first four groups matter here.
  const groups = tail === undefined ? headParts : [...headParts, ...Array<string>(8 - headParts.length - tailCount).fill('0')]
  const prefix = [0, 1, 2, 3].map((i) => parseInt(groups[i] ?? '0', 16).toString(16))
  return `${prefix.join(':')}::/64`
}
