import { describe, expect, it } from 'vitest';
import { CliError, EXIT_USAGE } from './errors';
import { compileCliDisplayFilter } from './display-filter';

describe('--display-filter', () => {
  it('compiles a filter, and gives none for a blank one or none at all', () => {
    expect(compileCliDisplayFilter('icmp.type == 0')?.text).toBe('icmp.type == 0');
    expect(compileCliDisplayFilter('  ')).toBeNull();
    expect(compileCliDisplayFilter(undefined)).toBeNull();
  });

  it('a bad filter is a usage error that points at the bad part', () => {
    let error: unknown;
    try {
      compileCliDisplayFilter('ip.ttl > 1 && icmp.tpye == 0');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT_USAGE);
    expect((error as CliError).message).toBe(
      "--display-filter: Unknown field 'icmp.tpye'; did you mean icmp.type? (column 15: \"icmp.tpye\")\n  ip.ttl > 1 && icmp.tpye == 0\n                ^^^^^^^^^",
    );
  });
});
