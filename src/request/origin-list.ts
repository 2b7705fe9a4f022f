/**
 * Parses `ALLOWED_ORIGINS`: a comma list of browser origins, each trimmed and written exactly as a
 * browser sends `Origin` (`scheme://host[:port]`, lowercase, no default port, no path or trailing
 * `/`), since matching is by exact string. Returns the origins, or one problem per bad entry.
 */
export function parseOriginList(text: string): { origins: string[]; problems: string[] } {
  const origins: string[] = []
  const problems: string[] = []
  for (const [i, raw] of text.split(',').entries()) {
    const entry = raw.trim()
    const problem = originProblem(entry)
    if (problem) problems.push(`entry ${i + 1} ${JSON.stringify(entry)}: ${problem}`)
    else if (!origins.includes(entry)) origins.push(entry)
  }
  return { origins, problems }
}

const FORM = 'expected an origin as browsers send it, scheme://host[:port]'

/** Why `entry` is not an origin a browser could send, or null when it is one. */
function originProblem(entry: string): string | null {
  if (entry === '') return `empty (a stray comma?); ${FORM}`
  if (entry === '*' || entry === 'null') return `not accepted: list each origin, ${FORM}`
  let url: URL
  try {
    url = new URL(entry)
  } catch {
    return FORM
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http and https origins; ${FORM}`
  if (url.origin === entry) return null
  const extra = url.username || url.password || url.pathname !== '/' || url.search || url.hash
  return extra ? `no user, path, query or fragment; ${FORM}` : `write it ${JSON.stringify(url.origin)}, the exact form browsers send`
}
