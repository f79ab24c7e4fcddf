// IPv4 and IPv6 addresses as text and as bytes. IPv6 text output follows RFC 5952.

/** Parses dotted-quad IPv4 text into 4 bytes; throws an Error saying what is wrong. */
export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) {
    throw new Error(`Invalid IPv4 address '${text}': expected four decimal numbers separated by dots`);
  }
  const bytes = new Uint8Array(4);
  parts.forEach((part, i) => {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part[0] === '0')) {
      throw new Error(`Invalid IPv4 address '${text}': part ${i + 1} '${part}' is not a decimal number without leading zeros`);
    }
    const value = Number(part);
    if (value > 255) throw new Error(`Invalid IPv4 address '${text}': part ${i + 1} is ${value}, above 255`);
    bytes[i] = value;
  });
  return bytes;
}

export function formatIpv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** Parses IPv6 text (full, '::'-compressed, or with an IPv4 tail) into 16 bytes. */
export function parseIpv6(text: string): Uint8Array {
  const fail = (why: string): never => {
    throw new Error(`Invalid IPv6 address '${text}': ${why}`);
  };
  if (text.includes('%')) fail('zone identifiers (%...) are not supported here');
  const halves = text.split('::');
  if (halves.length > 2) fail("'::' may appear only once");
  const groupsOf = (half: string): number[] => {
    if (half === '') return [];
    const parts = half.split(':');
    const groups: number[] = [];
    parts.forEach((part, i) => {
      if (i === parts.length - 1 && part.includes('.')) {
        let v4: Uint8Array;
        try {
          v4 = parseIpv4(part);
        } catch {
          return fail(`'${part}' is not a valid embedded IPv4 address`);
        }
        groups.push(v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]);
        return;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) fail(`group '${part}' is not 1 to 4 hex digits`);
      groups.push(parseInt(part, 16));
    });
    return groups;
  };
  if (/^:[^:]|[^:]:$/.test(text)) fail("a single ':' may not start or end an address");
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (halves.length === 2 && head.length + tail.length > 7) fail("too many groups for '::' to stand for any");
  if (halves.length === 1 && head.length !== 8) fail(`expected 8 groups, found ${head.length}`);
  if (halves.length === 2 && halves[0].includes('.')) fail('an embedded IPv4 address must come last');
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** Formats 16 bytes as RFC 5952 text: lowercase, longest zero run compressed, ::ffff:a.b.c.d for mapped IPv4. */
export function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes[2 * i] * 256 + bytes[2 * i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return '::ffff:' + formatIpv4(bytes.subarray(12, 16));
  }
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLength).join(':');
}

export function isIpv4(text: string): boolean {
  return succeeds(() => parseIpv4(text));
}

export function isIpv6(text: string): boolean {
  return succeeds(() => parseIpv6(text));
}

/** Parses either family; the byte length (4 or 16) tells which. */
export function parseIpAddress(text: string): Uint8Array {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

export function formatIpAddress(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}

function succeeds(attempt: () => unknown): boolean {
  try {
    attempt();
    return true;
  } catch {
    return false;
  }
}
