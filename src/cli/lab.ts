/**
 * `synack lab`: a network of namespaces to practise on. up / status / exec / serve / run /
 * down; everything happens inside namespaces named synack-<lab>-<host>.
 */
import { spawnSync } from 'node:child_process';
import { Option, type Command } from 'commander';
import {
  labDown, labServe, labStatus, labUp, listLabs, labRun, hostNamespace, parseLoss, exerciseScripts,
  TARGET_KINDS, TARGET_DESCRIPTIONS, DEFAULT_LAB, type LabStatus,
} from '../lab/index.js';
import { usageError } from '../wire/errors.js';
import { requireRoot } from './privilege.js';
import { action } from './run.js';
import { parsePort } from './common.js';
import { durationOption } from './duration.js';

interface LabOpt {
  lab?: string;
}

function formatStatus(s: LabStatus): string {
  if (s.state === 'down') return `lab '${s.name}' is down\n`;
  const imp = s.impairment;
  const impText = imp
    ? ` (${[imp.delayMs ? `delay ${imp.delayMs}ms` : '', imp.lossPercent ? `loss ${imp.lossPercent}%` : ''].filter(Boolean).join(', ')} each way, via ${imp.method})`
    : '';
  const lines = [`lab '${s.name}': ${s.state === 'up' ? 'up' : 'partial (run `synack lab down` to clear it)'}${impText}`];
  const width = Math.max(...s.hosts.map((h) => h.name.length));
  for (const h of s.hosts) {
    const addrs = h.interfaces.map((i) => `${i.dev} ${i.addresses.join(' ')}`).join('; ');
    lines.push(`  ${h.name.padEnd(width)}  ${addrs}${h.gateway ? `  via ${h.gateway}` : ''}${h.router ? '  (forwarding)' : ''}  [netns ${h.ns}]`);
  }
  if (s.targets.length) {
    lines.push('targets:');
    for (const t of s.targets) lines.push(`  ${t.kind.padEnd(11)} ${t.host}:${t.port}  pid ${t.pid}  ${t.running ? 'running' : 'exited'}  log ${t.log}`);
  }
  return lines.join('\n') + '\n';
}

function labFlag(o: LabOpt): string {
  return o.lab && o.lab !== DEFAULT_LAB ? ` --lab ${o.lab}` : '';
}

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('a practice network of namespaces: hosts, a router with delay/loss, target servers')
    .addHelpText(
      'after',
      '\nExamples:\n  sudo synack lab up --hosts client,server,router --delay 20ms --loss 1%\n  sudo synack lab status\n' +
        '  sudo synack lab serve get --host server --port 7000\n  sudo synack lab exec client -- ping -c1 198.51.100.66\n' +
        '  sudo synack lab run client handshake get 198.51.100.66 7000\n  sudo synack lab down',
    );

  lab
    .command('up')
    .description('build the lab (namespaces synack-<lab>-<host>, veth pairs, addresses from 198.51.100.0/24 and 2001:db8::/32)')
    .option('--hosts <list>', "host names, comma-separated; include 'router' to put one in between", 'client,server')
    .option('--delay <time>', 'added delay each way: seconds, or 20ms (needs tc netem; at most 10 s)', durationOption(10_000))
    .option('--loss <percent>', 'random loss each way, e.g. 1%')
    .option('--lab <name>', 'lab name', DEFAULT_LAB)
    .action(
      action((o: LabOpt & { hosts: string; delay?: number; loss?: string }) => {
        // Every value is checked before anything is built: a mistake is one line, not tc's or nft's.
        const lossPercent = o.loss !== undefined ? parseLoss(o.loss) : undefined;
        requireRoot('synack lab up');
        const status = labUp({
          name: o.lab,
          hosts: o.hosts.split(',').filter(Boolean),
          delayMs: o.delay,
          lossPercent,
        });
        process.stdout.write(formatStatus(status));
        process.stdout.write(`\nnext: sudo synack lab serve get --host ${status.hosts.find((h) => !h.router && h.name !== 'client')?.name ?? 'server'} --port 7000${labFlag(o)}\n`);
      }),
    );

  lab
    .command('status')
    .description('list the hosts, their addresses, and the running targets')
    .option('--lab <name>', 'lab name', DEFAULT_LAB)
    .option('--json', 'as JSON')
    .action(
      action((o: LabOpt & { json?: boolean }) => {
        const status = labStatus({ name: o.lab });
        if (o.json) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
        else {
          process.stdout.write(formatStatus(status));
          const others = listLabs().filter((l) => l !== status.name);
          if (others.length) process.stdout.write(`other labs: ${others.join(', ')} (see them with --lab NAME)\n`);
        }
        return status.state === 'down' ? 1 : 0;
      }),
    );

  lab
    .command('exec')
    .description('run a command inside a lab host (write it after --)')
    .argument('<host>', 'host name, e.g. client')
    .argument('<command...>', 'the command and its arguments')
    .option('--lab <name>', 'lab name', DEFAULT_LAB)
    .action(
      action((host: string, argv: string[], o: LabOpt) => {
        requireRoot('synack lab exec');
        const ns = hostNamespace(host, o.lab);
        const out = spawnSync('ip', ['netns', 'exec', ns, ...argv], { stdio: 'inherit' });
        if (out.error) throw usageError(`cannot run '${argv[0]}' in ${host}: ${out.error.message}`);
        return out.status ?? 128 + 9;
      }),
    );

  lab
    .command('serve')
    .description(`start a target server inside a host, in the background: ${TARGET_KINDS.join(', ')}`)
    .argument('<kind>', TARGET_KINDS.map((k) => `${k}: ${TARGET_DESCRIPTIONS[k]}`).join('; '))
    .requiredOption('--host <host>', 'the lab host to run it in')
    .requiredOption('--port <port>', 'TCP port')
    .option('--lab <name>', 'lab name', DEFAULT_LAB)
    .action(
      action((kind: string, o: LabOpt & { host: string; port: string }) => {
        const port = parsePort(o.port);
        requireRoot('synack lab serve');
        const t = labServe(kind, { lab: o.lab, host: o.host, port });
        process.stdout.write(`${kind} (${TARGET_DESCRIPTIONS[kind as keyof typeof TARGET_DESCRIPTIONS]}) on ${o.host} port ${port}, pid ${t.pid}\nits log: ${t.log}\n`);
      }),
    );

  lab
    .command('run')
    .description(`run a synack script inside a host: a bundled exercise (${exerciseScripts().join(', ') || 'none built'}) or your own .ts/.js`)
    .argument('<host>', 'host name')
    .argument('<script>', 'exercise name or path')
    .argument('[args...]', 'arguments for the script')
    .option('--lab <name>', 'lab name', DEFAULT_LAB)
    .action(
      action(async (host: string, script: string, args: string[], o: LabOpt) => {
        requireRoot('synack lab run');
        const r = await labRun(host, script, args, { lab: o.lab, onLine: (l) => process.stdout.write(l + '\n'), inheritStderr: true, timeout: 600_000 });
        return r.code ?? 128 + 9;
      }),
    );

  lab
    .command('down')
    .description('remove the lab: targets, processes, namespaces (also what a crashed `lab up` left)')
    .option('--lab <name>', 'lab name', DEFAULT_LAB)
    .option('--all', 'every synack lab on this machine')
    .action(
      action((o: LabOpt & { all?: boolean }) => {
        requireRoot('synack lab down');
        const r = labDown({ name: o.lab, all: o.all });
        process.stdout.write(
          r.namespaces.length
            ? `removed ${r.namespaces.join(', ')}${r.killed.length ? `; stopped ${r.killed.length} process${r.killed.length > 1 ? 'es' : ''}` : ''}\n`
            : `nothing to remove${o.all ? '' : ` for lab '${o.lab}'`}\n`,
        );
      }),
    );
  // Earlier messages said --name: it stays accepted (hidden) as another spelling of --lab.
  for (const sub of lab.commands) sub.addOption(new Option('--name <name>', 'same as --lab').hideHelp());
  lab.hook('preAction', (_lab, sub) => {
    const name = sub.getOptionValue('name') as string | undefined;
    if (name !== undefined) sub.setOptionValue('lab', name);
  });
}
