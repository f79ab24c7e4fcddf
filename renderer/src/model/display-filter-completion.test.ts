import { describe, expect, it } from 'vitest';
import { applyCompletion, completionAt } from './display-filter-completion';

describe('display filter completion', () => {
  it('offers the names that start with the word at the caret, model names before Wireshark spellings', () => {
    const completion = completionAt('icmp.type == 0 && ipv6.h', 24);
    expect(completion?.start).toBe(18);
    const names = completion!.options.map((option) => option.name);
    expect(names).toEqual(['ipv6.hopLimit', 'ipv6.hlim']);
    expect(completion!.options[1].aliasOf).toBe('ipv6.hopLimit');
  });

  it('falls back to names containing the word, and stops at a whole name', () => {
    expect(completionAt('syn', 3)!.options.map((option) => option.name)).toContain('tcp.flags.syn');
    expect(completionAt('icmp.type', 9)).toBeNull();
    expect(completionAt('tcp.flags', 9)!.options.map((option) => option.name)).toContain('tcp.flags.ack');
  });

  it('offers nothing for operators, numbers, addresses and strings', () => {
    expect(completionAt('icmp and', 8)).toBeNull();
    expect(completionAt('ip.src == fe80::a', 17)).toBeNull();
    expect(completionAt('ip.ttl == 0x1f', 14)).toBeNull();
    expect(completionAt('frame.direction == "rec', 23)).toBeNull();
    expect(completionAt('', 0)).toBeNull();
  });

  it('replaces the whole word, also when the caret is inside it', () => {
    const text = 'udp.sr == 53';
    const completion = completionAt(text, 5)!;
    expect(applyCompletion(text, completion, 'udp.srcPort')).toEqual({ text: 'udp.srcPort == 53', caret: 11 });
  });
});
