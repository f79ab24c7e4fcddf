// The command line: commands, options and help (commander), exit codes and the
// one-line error messages. Each command lives in its own file beside this one.
import { Command, CommanderError, Option } from 'commander';
import { integerArg, numberArg, protocolArg } from './args';
import { capture } from './capture';
import { DISPLAY_FILTER_FLAG, DISPLAY_FILTER_HELP } from './display-filter';
import { CliError, EXIT_BROKEN_PIPE, EXIT_NO_RESULT, EXIT_OK, EXIT_OUTPUT_ERROR, EXIT_USAGE, toCliError, usageMessage } from './errors';
import { registerLabCommands } from './lab';
import { registerLessonCommands } from './lesson';
import { registerWorkspaceCommands } from './workspace';
import { ping } from './ping';
import { pmtu } from './pmtu';
import { capabilities, setupHelper } from './privileges';
import { send, TEMPLATES } from './send';
import { serve } from './serve';
import { isBroken, onOutputClosed, outputFailure, watchOutput } from './output-pipe';
import { LAB_HOST_FLAG, LAB_HOST_HELP } from './lab-host';
import { Output } from './session';
import { traceroute } from './traceroute';

const NAME = 'packet-workbench';

type Action = (out: Output) => Promise<number>;

/** How long a command may take to stop by itself once its output is gone, before the CLI ends it. */
const OUTPUT_CLOSED_GRACE_MS = 5000;

export async function main(argv: string[]): Promise<number> {
  const stopWatching = watchOutput();
  // Every command stops on a closed output as on Ctrl-C (onInterrupt); one that does not is
  // ended after a grace period (exit hooks still close capture files and remove labs).
  const removeFallback = onOutputClosed(() => {
    setTimeout(() => process.exit(exitStatus(EXIT_OK)), OUTPUT_CLOSED_GRACE_MS).unref();
  });
  try {
    return exitStatus(await run(argv));
  } finally {
    removeFallback();
    stopWatching();
  }
}

/**
 * A command cut short by its output has no result to report: 141 for a vanished reader,
 * 74 for another write error, in place of 0 or 1. Errors keep their own status.
 */
function exitStatus(code: number): number {
  if (!(isBroken('stdout') || isBroken('stderr')) || (code !== EXIT_OK && code !== EXIT_NO_RESULT)) return code;
  return outputFailure() ? EXIT_OUTPUT_ERROR : EXIT_BROKEN_PIPE;
}

async function run(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  let commandName = '';
  let action: Action | null = null;
  const program = new Command(NAME);
  program
    .description('Raw IP packets from the command line: ping, traceroute, send, capture, and the browser host, over the Packet Workbench engine.')
    .version(version(), '-V, --version')
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({
      outputError: (text, write) => {
        // commander's "error: …" (possibly several lines) becomes one line naming the command.
        const raw = text.replace(/^error: /, '').replace(/\s+/g, ' ').trim();
        const message = usageMessage(raw);
        // A bad value is named with what was expected; an unknown or missing argument points to --help.
        const hint = message === raw.replace(/\.$/, '') ? ' (see --help)' : '';
        if (json) {
          if (!isBroken('stdout')) process.stdout.write(`${JSON.stringify({ type: 'error', code: 'USAGE', message, exitCode: EXIT_USAGE })}\n`);
        } else if (!isBroken('stderr')) write(`${NAME}${commandName ? ` ${commandName}` : ''}: ${message}${hint}\n`);
      },
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 success (ping: a reply; traceroute, pmtu: target reached), 1 no reply / not reached / not all sent,
2 usage or validation error, 3 capture lost packets (kernel drops, a failed write),
77 missing privilege (CAP_NET_RAW) with the remedy in the message, 141 the output's reader went away (| head),
74 the output could not be written (a full disk).
--json prints one JSON object per line (stream records, then a final one) on stdout.`,
    );
  const set = (name: string, run: Action) => {
    commandName = name;
    action = run;
  };
  program.hook('preSubcommand', (_thisCommand, sub) => {
    commandName = sub.name();
  });
  // Commander names too many arguments but not which; this names them.
  program.hook('preAction', (_thisCommand, actionCommand) => {
    const excess = actionCommand.args.slice(actionCommand.registeredArguments.length);
    // A variadic argument (capture's filter words) takes them all.
    if (excess.length > 0 && !actionCommand.registeredArguments.some((argument) => argument.variadic)) {
      const takes = actionCommand.registeredArguments.map((argument) => `<${argument.name()}>`).join(' ') || 'no arguments';
      throw new CliError(EXIT_USAGE, `unexpected argument${excess.length > 1 ? 's' : ''} ${excess.map((arg) => `'${arg}'`).join(' ')} (${commandName} takes ${takes})`);
    }
  });

  program
    .command('ping')
    .description('ICMP / ICMPv6 echo, printed like ping(8); Ctrl-C stops and prints the statistics')
    .argument('<target>', 'IPv4 or IPv6 address, or a host name')
    .option('-c, --count <count>', 'stop after this many requests (default: until interrupted)', integerArg)
    .option('-i, --interval <seconds>', 'seconds between requests (default 1)', numberArg)
    .option('-s, --size <bytes>', 'payload bytes (default 56)', integerArg)
    .option('-t, --ttl <ttl>', 'IP time to live / hop limit (default 64)', integerArg)
    .option('-W, --timeout <seconds>', 'seconds to wait for each reply (default 2)', numberArg)
    .addOption(new Option('--mode <mode>', 'raw socket, unprivileged datagram socket, or raw falling back to datagram').choices(['auto', 'raw', 'datagram']).default('auto'))
    .option('-4', 'resolve the name to IPv4')
    .option('-6', 'resolve the name to IPv6')
    .option('--elevate', 'start the socket helper first (pkexec or sudo may ask for a password)')
    .option(LAB_HOST_FLAG, LAB_HOST_HELP)
    .option('--json', 'one JSON object per line')
    .action((target: string, options: Record<string, unknown>) =>
      set('ping', (out) => ping(target, { ...(options as object), ipv4: Boolean(options['4']), ipv6: Boolean(options['6']) }, out)),
    );

  program
    .command('traceroute')
    .description('the route to a host, hop by hop, printed like traceroute(8); without privileges through the error queue')
    .argument('<target>', 'IPv4 or IPv6 address, or a host name')
    .option('-I, --icmp', 'ICMP echo probes')
    .option('-U, --udp', 'UDP probes to port 33434 and up (the default, as in traceroute(8))')
    .option('-T, --tcp', 'TCP SYN probes (port 80 unless -p)')
    .option('-4', 'IPv4')
    .option('-6', 'IPv6')
    .option('-f, --first <ttl>', 'first hop (default 1)', integerArg)
    .option('-m, --max <hops>', 'maximum hops (default 30)', integerArg)
    .option('-q, --queries <probes>', 'probes per hop (default 3)', integerArg)
    .option('-w, --wait <seconds>', 'seconds to wait for a hop\'s answers (default 1)', numberArg)
    .option('-p, --port <port>', 'destination port (UDP: first of the range; TCP: the port)', integerArg)
    .option('--mtr', 'mtr mode: probe every hop in cycles (ICMP echo unless -U/-T) and print per-hop loss and RTT statistics')
    .option('-c, --count <cycles>', '--mtr: cycles (default 10)', integerArg)
    .option('-i, --interval <seconds>', '--mtr: seconds from one cycle to the next (default 1)', numberArg)
    .option('--report', "--mtr: print mtr's report (HOST: … Loss%  Snt  Last  Avg  Best  Wrst StDev) when the cycles are done")
    .addOption(
      new Option('--mode <mode>', 'raw sockets, the unprivileged error queue (UDP/TCP probes, ICMP through a ping socket), or raw where possible')
        .choices(['auto', 'raw', 'error-queue'])
        .default('auto'),
    )
    .option('--elevate', 'start the socket helper first (pkexec or sudo may ask for a password)')
    .option(LAB_HOST_FLAG, LAB_HOST_HELP)
    .option('--json', 'one JSON object per line')
    .action((target: string, options: Record<string, unknown>) =>
      set('traceroute', (out) => traceroute(target, { ...(options as object), ipv4: Boolean(options['4']), ipv6: Boolean(options['6']) }, out)),
    );

  program
    .command('pmtu')
    .description('path-MTU discovery, printed like tracepath(8): probes with DF set, each hop with its MTU, ending with the path MTU; no privileges needed')
    .argument('<target>', 'IPv4 or IPv6 address, or a host name')
    .option('-4', 'IPv4')
    .option('-6', 'IPv6')
    .option('-m, --max <hops>', 'maximum hops (default 30)', integerArg)
    .option('-w, --wait <seconds>', "seconds to wait for a probe's answer (default 1)", numberArg)
    .option(LAB_HOST_FLAG, LAB_HOST_HELP)
    .option('--json', 'one JSON object per line')
    .action((target: string, options: Record<string, unknown>) =>
      set('pmtu', (out) => pmtu(target, { ...(options as object), ipv4: Boolean(options['4']), ipv6: Boolean(options['6']) }, out)),
    );

  program
    .command('send')
    .description('send a packet (hex, a layer stack, or a template) once or N times')
    .argument('<target>', 'IPv4 or IPv6 address, or a host name')
    .option('--hex <hex>', 'the packet as hex (without IP header: give --protocol; an IPv4 header in front goes out as is)')
    .option('--layers <json>', 'the packet as a JSON layer stack, e.g. \'[{"kind":"icmp","fields":{"type":8}},{"kind":"payload","data":"6869"}]\'')
    .addOption(new Option('--template <name>', 'a ready packet').choices([...TEMPLATES]))
    .option('--protocol <protocol>', 'the socket\'s protocol: icmp, icmpv6, udp, tcp or 0-255 (default: from the packet)', protocolArg)
    .option('-c, --count <count>', 'packets to send (default 1)', integerArg)
    .option('-i, --interval <seconds>', 'seconds between packets (default 0: as fast as possible)', numberArg)
    .option('--rate <pps>', 'packets per second (instead of -i)', numberArg)
    .option('-p, --port <port>', 'destination port of the udp and tcp-syn templates (default 9 and 80)', integerArg)
    .option('--vary <spec>', 'a variable field, repeatable: LAYER.FIELD=MODE[:STEP[:COUNT]] (increment, decrement, random[:COUNT], list:V1,V2…), e.g. icmp.sequence=increment, ipv4.ttl=list:5,6,7; an echo request sent more than once increments its sequence by default', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--no-vary', 'identical packets (no default sequence increment)')
    .option('--answers <ms>', 'send and match (like Scapy\'s sr()): wait this long after the last packet, then print answered and unanswered', integerArg)
    .addOption(new Option('--mode <mode>', 'socket mode (datagram: ICMP echo without privileges)').choices(['auto', 'raw', 'datagram']).default('auto'))
    .option('-q, --quiet', 'only the closing count line')
    .option('-4', 'resolve the name to IPv4')
    .option('-6', 'resolve the name to IPv6')
    .option('--elevate', 'start the socket helper first (pkexec or sudo may ask for a password)')
    .option(LAB_HOST_FLAG, LAB_HOST_HELP)
    .option('--json', 'one JSON object per line')
    .action((target: string, options: Record<string, unknown>) =>
      set('send', (out) => send(target, { ...(options as object), ipv4: Boolean(options['4']), ipv6: Boolean(options['6']) }, out)),
    );

  program
    .command('capture')
    .description('whole packets, both directions, from a packet socket (every interface, or -i): one decoded line per packet; -w streams them to a file')
    .argument('[expression...]', "a capture filter in tcpdump's syntax (pcap-filter(7)), e.g. 'tcp port 80 and host 198.18.3.2'; several words are joined, as tcpdump does")
    .option('-i, --interface <name>', 'the interface to capture on (default: every interface)')
    .option('--protocol <protocol>', 'instead: a raw IP socket for one protocol, inbound only: icmp, icmpv6, udp, tcp or 0-254 (with -6 default icmpv6)', protocolArg)
    .option('-6', 'instead: an IPv6 raw IP socket (ICMPv6 unless --protocol)')
    .option('-c, --count <count>', 'stop after this many packets', integerArg)
    .option('--timeout <seconds>', 'stop after this many seconds', numberArg)
    .option('-w, --write <file>', 'write the packets to this file as they arrive (pcapng; classic pcap for a .pcap name)')
    .addOption(new Option('--format <format>', 'file format of -w (default: by the name)').choices(['pcapng', 'pcap']))
    .option('-q, --quiet', 'no line per packet (as tcpdump -w)')
    .option(DISPLAY_FILTER_FLAG, DISPLAY_FILTER_HELP)
    .option('--elevate', 'start the socket helper first (pkexec or sudo may ask for a password)')
    .option(LAB_HOST_FLAG, LAB_HOST_HELP)
    .option('--json', 'one JSON object per line')
    .action((expression: string[], options: Record<string, unknown>) =>
      set('capture', (out) => capture({ ...(options as object), ipv6: Boolean(options['6']), ...(expression.length > 0 ? { filter: expression.join(' ') } : {}) }, out)),
    );

  program
    .command('serve')
    .description('the browser host on 127.0.0.1: prints the URL with its token; Ctrl-C stops it')
    .option('--port <port>', 'port (default: any free one)', integerArg)
    .option('--static <dir>', 'the built renderer (default: renderer/dist)')
    .option('--json', 'one JSON object per line')
    .action((options: Record<string, unknown>) => set('serve', (out) => serve(options, out)));

  program
    .command('capabilities')
    .description('what works at this privilege level, per experiment (raw socket, socket helper, ping socket, error queue), and the remedy')
    .option('--json', 'one JSON object')
    .action(() => set('capabilities', (out) => capabilities(out)));

  program
    .command('setup-helper')
    .description('(root) install the socket helper with cap_net_raw, so every user gets raw sockets without a password')
    .option('--dest <dir>', `install folder (default ${'/usr/local/libexec/packet-workbench'})`)
    .option('--source <file>', 'the helper to install (default: the one npm run build:native made)')
    .option('--remove', 'remove the installed helper and its capability')
    .option('--json', 'one JSON object per line')
    .action((options: Record<string, unknown>) => set('setup-helper', (out) => setupHelper(options, out)));

  const lab = registerLabCommands(program, set, (name) => {
    commandName = name;
  });

  const lesson = registerLessonCommands(program, set, (name) => {
    commandName = name;
  });

  const workspace = registerWorkspaceCommands(program, set, (name) => {
    commandName = name;
  });

  for (const command of [program, ...program.commands, ...lab.commands, ...lesson.commands, ...workspace.commands]) command.allowExcessArguments(true);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help, help and --version exit 0; no command at all printed the usage on stderr.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    return report(error, commandName, json);
  }
  if (!action) {
    program.outputHelp();
    return EXIT_USAGE;
  }
  try {
    return await (action as Action)(new Output(json));
  } catch (error) {
    return report(error, commandName, json);
  }
}

function report(error: unknown, command: string, json: boolean): number {
  const failure = toCliError(error);
  if (json) {
    if (!isBroken('stdout')) process.stdout.write(`${JSON.stringify({ type: 'error', code: failure.code, message: failure.message, exitCode: failure.exitCode })}\n`);
  } else if (!isBroken('stderr')) {
    process.stderr.write(`${NAME}${command ? ` ${command}` : ''}: ${failure.message}\n`);
  }
  if (process.env.PACKET_WORKBENCH_DEBUG && !(error instanceof CliError)) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  return failure.exitCode;
}

function version(): string {
  try {
    // dist/main/cli/program.js -> package.json at the project root
    return (require('../../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
