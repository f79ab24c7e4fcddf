// Display filters: Wireshark-like expressions over the packet model's field names, such as
// `icmp.type == 0 && ip.src == 198.18.1.1`, `tcp.flags.syn`, `udp.port in {53, 33434..33534}`.
// compileDisplayFilter checks the whole filter once (syntax, names, value types) and returns a
// test that reads only the fields it names from each packet's bytes.
//
// A field may occur more than once (an ICMP error's quoted packet has its own ip.src and udp.port);
// a comparison holds when any occurrence satisfies it, and `!=` when the field is present and no
// occurrence equals the value (Wireshark's semantics). A field alone tests presence; a flag bit
// alone (`tcp.flags.syn`) tests that it is set.
import { resolveField, suggestField, type ResolvedField } from './display-filter-fields';
import { PacketLayers, readLayerField, type FilterPacket } from './display-filter-packet';
import { DisplayFilterError, parseDisplayFilter, type CompareOperator, type FilterNode, type LiteralNode, type SetItem } from './display-filter-syntax';

export { displayFilterFields, type DisplayFilterField, type DisplayFilterFieldType } from './display-filter-fields';
export type { FilterPacket } from './display-filter-packet';
export { DisplayFilterError } from './display-filter-syntax';

export interface DisplayFilter {
  readonly text: string;
  /** A blank filter: every packet passes. */
  readonly empty: boolean;
  test(packet: FilterPacket): boolean;
}

type Value = number | string | Uint8Array;
/** Calls visit with each value of an operand in a packet; true as soon as visit returns true. */
type Values = (layers: PacketLayers, visit: (value: Value) => boolean) => boolean;
type Test = (layers: PacketLayers) => boolean;

interface Operand {
  readonly type: 'number' | 'ipv4' | 'ipv6' | 'string' | 'bytes' | 'protocol';
  readonly values: Values;
  readonly node: FilterNode;
  readonly field?: ResolvedField;
}

/** Compiles a filter; throws DisplayFilterError naming the position and the bad part. */
export function compileDisplayFilter(text: string): DisplayFilter {
  if (typeof text !== 'string') throw new TypeError(`A display filter must be a string, got ${typeof text}`);
  const tree = parseDisplayFilter(text);
  if (!tree) return { text, empty: true, test: () => true };
  const test = new Compiler(text).test(tree);
  const layers = new PacketLayers();
  return { text, empty: false, test: (packet) => test(layers.read(packet)) };
}

class Compiler {
  constructor(private readonly text: string) {}

  private fail(node: { start: number; end: number }, reason: string): never {
    throw new DisplayFilterError(this.text, node.start, reason, node.end);
  }

  test(node: FilterNode): Test {
    switch (node.type) {
      case 'logical': {
        const left = this.test(node.left);
        const right = this.test(node.right);
        return node.operator === 'and' ? (layers) => left(layers) && right(layers) : (layers) => left(layers) || right(layers);
      }
      case 'not': {
        const operand = this.test(node.operand);
        return (layers) => !operand(layers);
      }
      case 'compare':
        return this.compare(node);
      case 'mask': {
        const masked = this.operand(node);
        return (layers) => masked.values(layers, (value) => value !== 0);
      }
      case 'field': {
        const operand = this.operand(node);
        if (operand.field?.type === 'flag') return (layers) => operand.values(layers, (value) => value !== 0);
        return (layers) => operand.values(layers, () => true);
      }
      case 'set':
        return this.fail(node, 'A set alone is not a test: write field in {…}, e.g. udp.port in {53, 123}');
      default:
        return this.fail(node, `'${this.text.slice(node.start, node.end)}' alone is not a test: compare it with a field, e.g. ip.ttl == 64`);
    }
  }

  /** A field (or `field & mask`) as a source of values. */
  private operand(node: FilterNode, asStringFor?: Operand): Operand {
    if (node.type === 'mask') {
      const field = this.operand(node.left);
      if (field.type !== 'number') this.fail(node.left, `'&' needs a number field; ${this.describe(field)}`);
      if (node.right.type !== 'number' || !Number.isInteger(node.right.value)) this.fail(node.right, "The mask after '&' must be a whole number, e.g. tcp.flags & 0x12");
      const mask = node.right.value;
      return { type: 'number', node, values: (layers, visit) => field.values(layers, (value) => visit(((value as number) & mask) >>> 0)) };
    }
    if (node.type !== 'field') return this.fail(node, 'Expected a field here');
    const field = resolveField(node.name);
    if (!field) {
      if (asStringFor) return { type: 'string', node, values: (_layers, visit) => visit(node.name) };
      const suggestion = suggestField(node.name);
      return this.fail(node, `Unknown field '${node.name}'${suggestion ? `; did you mean ${suggestion}?` : '; see the list of fields'}`);
    }
    const type = field.type === 'flag' ? 'number' : field.type;
    return { type, node, field, values: valuesOf(field) };
  }

  private compare(node: Extract<FilterNode, { type: 'compare' }>): Test {
    let { left, right } = node;
    let operator = node.operator;
    const isValue = (candidate: FilterNode) => candidate.type !== 'field' && candidate.type !== 'mask';
    if (isValue(left) && !isValue(right)) {
      [left, right] = [right, left];
      operator = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as Record<string, CompareOperator>)[operator] ?? operator;
      if (operator === 'in' || operator === 'contains') this.fail(node.right, `Write the field first: field ${operator} …`);
    }
    if (isValue(left)) this.fail(node, 'Compare a field with a value, e.g. icmp.type == 0: neither side is a field');
    const field = this.operand(left);
    if (field.type === 'protocol') this.fail(left, `'${field.field?.name}' is a protocol, not a value: compare one of its fields, e.g. ${field.field?.name}.${field.field?.name === 'frame' ? 'len' : 'type'}`);
    if (field.type === 'bytes') this.fail(left, `'${field.field?.name}' holds bytes: only a presence test ('${field.field?.name}' alone) is supported`);
    if (operator === 'in') {
      if (right.type !== 'set') this.fail(right, "'in' takes a set: in {53, 123, 33434..33534}");
      return this.anyOf(field, right.items.map((item) => this.matcher(field, '==', item)));
    }
    if (right.type === 'set') this.fail(right, `A set goes with 'in', not '${this.text.slice(node.at, node.at + 2).trim()}'`);
    if (right.type === 'field' || right.type === 'mask') {
      const other = this.operand(right, field.type === 'string' ? field : undefined);
      if (other.node.type === 'field' && other.field) return this.fieldToField(node, operator, field, other);
      return this.compareWith(field, operator, this.matcher(field, operator === '!=' ? '==' : operator, { type: 'string', value: (right as { name: string }).name, start: right.start, end: right.end }));
    }
    return this.compareWith(field, operator, this.matcher(field, operator === '!=' ? '==' : operator, right));
  }

  private compareWith(field: Operand, operator: CompareOperator, matches: (value: Value) => boolean): Test {
    if (operator !== '!=') return (layers) => field.values(layers, matches);
    // Present, and no occurrence equal.
    return (layers) => field.values(layers, () => true) && !field.values(layers, matches);
  }

  private anyOf(field: Operand, matchers: ((value: Value) => boolean)[]): Test {
    const matches = (value: Value) => matchers.some((match) => match(value));
    return (layers) => field.values(layers, matches);
  }

  private fieldToField(node: FilterNode, operator: CompareOperator, left: Operand, right: Operand): Test {
    const family = (type: Operand['type']) => (type === 'ipv4' || type === 'ipv6' ? 'address' : type);
    if (left.type !== right.type) this.fail(node, `Cannot compare ${this.describe(left)} with ${this.describe(right)}`);
    if (operator === 'contains' && family(left.type) !== 'string') this.fail(node, "'contains' compares strings");
    const compare = comparison(operator === '!=' ? '==' : operator);
    const pairs = (layers: PacketLayers) => {
      const seen: Value[] = [];
      right.values(layers, (value) => (seen.push(value), false));
      return left.values(layers, (value) => seen.some((other) => compare(order(value, other), value, other)));
    };
    if (operator !== '!=') return pairs;
    return (layers) => left.values(layers, () => true) && right.values(layers, () => true) && !pairs(layers);
  }

  /** A test of one value against a literal (or a set item), checked against the field's type now. */
  private matcher(field: Operand, operator: CompareOperator, literal: FilterNode | SetItem): (value: Value) => boolean {
    const name = field.field?.name ?? 'the field';
    if (literal.type === 'range') {
      if (field.type !== 'number') this.fail(literal, `A number range does not fit ${this.describe(field)}`);
      const { from, to } = literal;
      return (value) => (value as number) >= from && (value as number) <= to;
    }
    const compare = comparison(operator);
    if (field.type === 'number') {
      let number: number;
      if (literal.type === 'number') number = literal.value;
      else if (literal.type === 'string') number = this.enumValue(field, literal);
      else return this.fail(literal, `${name} is a number; '${this.text.slice(literal.start, literal.end)}' is not`);
      if (operator === 'contains') this.fail(literal, `'contains' compares strings; ${name} is a number`);
      return (value) => compare((value as number) - number, value, number);
    }
    if (field.type === 'string') {
      if (literal.type !== 'string') this.fail(literal, `${name} is text: quote the value, e.g. ${name} == "received"`);
      const text = (literal as LiteralNode & { type: 'string' }).value;
      if (operator === 'contains') return (value) => (value as string).includes(text);
      return (value) => compare(order(value, text), value, text);
    }
    // ipv4 / ipv6
    const family = field.type === 'ipv4' ? 4 : 6;
    if (literal.type !== 'address') return this.fail(literal, `${name} is an IPv${family} address; '${this.text.slice(literal.start, literal.end)}' is not`);
    if (literal.family !== family) this.fail(literal, `${name} is an IPv${family} address; ${literal.raw} is IPv${literal.family}`);
    if (operator === 'contains') this.fail(literal, `'contains' compares strings; ${name} is an address`);
    const bits = family === 4 ? 32 : 128;
    const { bytes, prefix } = literal;
    if (prefix < bits) {
      if (operator !== '==') this.fail(literal, `A network (${literal.raw}) goes with ==, != or in, not ordering`);
      return (value) => inNetwork(value as Uint8Array, bytes, prefix);
    }
    return (value) => compare(compareBytes(value as Uint8Array, bytes), value, bytes);
  }

  private enumValue(field: Operand, literal: { value: string; start: number; end: number }): number {
    const description = field.field?.access.kind === 'header' ? field.field.access.fields[0] : undefined;
    const names = description?.enumNames;
    const wanted = literal.value.toLowerCase();
    if (names) for (const [value, label] of Object.entries(names)) if (label.toLowerCase() === wanted) return Number(value);
    const known = names ? `: one of ${Object.values(names).slice(0, 8).map((label) => `"${label}"`).join(', ')}…` : '';
    return this.fail(literal, `${field.field?.name} is a number${names ? ` with no value named "${literal.value}"${known}` : ''}`);
  }

  private describe(operand: Operand): string {
    const name = operand.field?.name ?? this.text.slice(operand.node.start, operand.node.end);
    const kind = operand.type === 'number' ? 'a number' : operand.type === 'string' ? 'text' : operand.type === 'bytes' ? 'bytes' : `an ${operand.type === 'ipv4' ? 'IPv4' : 'IPv6'} address`;
    return `${name} (${kind})`;
  }
}

/** Turns an ordering (negative, 0, positive) into the operator's verdict. */
function comparison(operator: CompareOperator): (difference: number, a: Value, b: Value) => boolean {
  switch (operator) {
    case '<':
      return (difference) => difference < 0;
    case '<=':
      return (difference) => difference <= 0;
    case '>':
      return (difference) => difference > 0;
    case '>=':
      return (difference) => difference >= 0;
    case 'contains':
      return (_difference, a, b) => typeof a === 'string' && typeof b === 'string' && a.includes(b);
    default:
      return (difference) => difference === 0;
  }
}

function order(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  return NaN;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function inNetwork(address: Uint8Array, network: Uint8Array, prefix: number): boolean {
  if (address.length !== network.length) return false;
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== network[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole] & mask) === (network[whole] & mask);
}

/** How each kind of name finds its values in a packet. */
function valuesOf(field: ResolvedField): Values {
  const access = field.access;
  switch (access.kind) {
    case 'layer':
      return (layers, visit) => {
        for (let i = 0; i < layers.count; i++) if (layers.kinds[i] === access.layer && visit(1)) return true;
        return false;
      };
    case 'header':
      return (layers, visit) => {
        for (let i = 0; i < layers.count; i++) {
          if (layers.kinds[i] !== access.layer) continue;
          const value = readLayerField(layers, i, access.fields);
          if (value !== undefined && visit(value)) return true;
        }
        return false;
      };
    case 'flag': {
      const fields = [access.field];
      return (layers, visit) => {
        for (let i = 0; i < layers.count; i++) {
          if (layers.kinds[i] !== access.layer) continue;
          const value = readLayerField(layers, i, fields);
          if (typeof value === 'number' && visit(value & access.mask ? 1 : 0)) return true;
        }
        return false;
      };
    }
    case 'either': {
      const [first, second] = [[access.fields[0]], [access.fields[1]]];
      return (layers, visit) => {
        for (let i = 0; i < layers.count; i++) {
          if (layers.kinds[i] !== access.layer) continue;
          const a = readLayerField(layers, i, first);
          if (a !== undefined && visit(a)) return true;
          const b = readLayerField(layers, i, second);
          if (b !== undefined && visit(b)) return true;
        }
        return false;
      };
    }
    case 'frame':
      return (layers, visit) => {
        const packet = layers.packet!;
        const value = access.what === 'len' ? layers.bytes.length : access.what === 'number' ? packet.number : access.what === 'direction' ? packet.direction : packet.socket;
        return value !== undefined && value !== null && visit(value);
      };
    case 'data-len':
      return (layers, visit) => {
        for (let i = 0; i < layers.count; i++) if (layers.kinds[i] === 'data' && visit(layers.limits[i] - layers.starts[i])) return true;
        return false;
      };
    case 'match':
      return (layers, visit) => {
        const match = layers.packet!.match;
        const value = access.what === 'rtt' ? match?.rttMs : access.what === 'reply' ? match?.replyId : match?.requestId;
        return value !== undefined && visit(value);
      };
  }
}
