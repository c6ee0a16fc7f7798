/**
 * `synack probe HOST:PORT`: the six classic probes at one port (SYN, FIN, Null, Xmas, ACK and a
 * bare RST), sent together from six source ports, and one table of what came back and what it
 * means in nmap's terms: open, closed, filtered, unfiltered, open|filtered.
 */
import type { Command } from 'commander';
import { IP, IPv6, TCP } from '../packet/factories.js';
import type { Packet } from '../packet/packet.js';
import { TCPLayer } from '../layers/tcp.js';
import { tcpdumpFlags } from '../show/ladder.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { sr } from '../sr/sr.js';
import { ephemeralPort } from '../tcp/connect.js';
import { examples, out, palette, parseHostPort } from './common.js';
import { durationOption } from './duration.js';
import { EXIT_NO_ANSWER, action } from './run.js';
import { maybePacketJson, packetJson } from '../show/json.js';
import { checkIface } from './send.js';

interface ProbeKind {
  name: string;
  flags: string;
  /** The verdict from the reply's TCP flags, or from silence (undefined). */
  meaning(replyFlags: number | undefined, icmp: boolean): string;
}

const RST = 0x04;
const SYN_ACK = 0x12;

const PROBES: ProbeKind[] = [
  {
    name: 'SYN',
    flags: 'S',
    meaning: (f, icmp) => (icmp ? 'filtered (ICMP unreachable)' : f === undefined ? 'filtered (no answer)' : (f & SYN_ACK) === SYN_ACK ? 'open' : f & RST ? 'closed' : 'unexpected answer'),
  },
  ...(['FIN', 'Null', 'Xmas'] as const).map((name) => ({
    name,
    flags: name === 'FIN' ? 'F' : name === 'Null' ? '' : 'FPU',
    meaning: (f: number | undefined, icmp: boolean) =>
      icmp ? 'filtered (ICMP unreachable)' : f === undefined ? 'open|filtered (an open port stays silent)' : f & RST ? 'closed' : 'unexpected answer',
  })),
  {
    name: 'ACK',
    flags: 'A',
    meaning: (f, icmp) => (icmp ? 'filtered (ICMP unreachable)' : f === undefined ? 'filtered (no answer)' : f & RST ? 'unfiltered (reachable; open or closed)' : 'unexpected answer'),
  },
  {
    name: 'RST',
    flags: 'R',
    meaning: (f, icmp) => (icmp ? 'filtered (ICMP unreachable)' : f === undefined ? 'no answer (a RST is never answered)' : 'answered: a middlebox or an odd stack'),
  },
];

export interface ProbeRow {
  probe: string;
  sent: string;
  reply: string;
  meaning: string;
  rtt_ms: number | null;
}

function replyText(p: Packet): { text: string; flags: number | undefined; icmp: boolean } {
  const tcp = p.getLayer(TCPLayer);
  if (tcp && !tcp.name.endsWith('error')) return { text: `[${tcpdumpFlags(tcp.flagBits)}] win ${tcp.get('window')}`, flags: tcp.flagBits, icmp: false };
  const summary = p.summary();
  return { text: summary.replace(/^IP6? \S+ > \S+: /, ''), flags: undefined, icmp: /ICMP/.test(summary) };
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('SYN, FIN, Null, Xmas, ACK and RST probes at one port, with what each answer means')
    .argument('<target>', 'HOST:PORT, e.g. 127.0.0.1:22 or [::1]:22')
    .option('--timeout <time>', 'wait for answers: seconds, or 500ms (default 1)', durationOption())
    .option('--iface <name>', 'leave by this interface')
    .option('--json', 'print the table as JSON')
    .addHelpText(
      'after',
      examples('sudo synack probe 127.0.0.1:22', 'sudo synack probe 127.0.0.1:9 --timeout 0.5', 'sudo synack probe [::1]:22 --json'),
    )
    .action(
      action(async (target: string, opts: { timeout?: number; iface?: string; json?: boolean }) => {
        const { host, port } = parseHostPort(target);
        checkIface(opts.iface);
        requireRawPrivilege('synack probe');
        const base = ephemeralPort() - 8;
        const seq = (Math.random() * 0x100000000) >>> 0;
        const probes = PROBES.map((k, i) => {
          const net = host.includes(':') ? IPv6({ dst: host }) : IP({ dst: host });
          return net.add(TCP({ sport: base + i, dport: port, flags: k.flags, seq, ack: k.flags === 'A' ? seq : 0, window: 1024 }));
        });
        const { answered } = await sr(probes, { timeout: opts.timeout ?? 1000, iface: opts.iface });
        const rows: ProbeRow[] = PROBES.map((k, i) => {
          const a = answered.find((x) => x[0].getLayer(TCPLayer)?.get('sport') === base + i);
          const sent = `[${tcpdumpFlags(probes[i]!.layer(TCPLayer).flagBits)}]`;
          if (!a) return { probe: k.name, sent, reply: 'none', meaning: k.meaning(undefined, false), rtt_ms: null };
          const r = replyText(a[1]);
          return { probe: k.name, sent, reply: r.text, meaning: k.meaning(r.flags, r.icmp), rtt_ms: Number((a.rtt / 1000).toFixed(3)) };
        });
        if (opts.json) {
          // The packets in the one schema (src/show/json.ts); no reply is null.
          const json = rows.map((row, i) => {
            const a = answered.find((x) => x[0].getLayer(TCPLayer)?.get('sport') === base + i);
            return { probe: row.probe, sent: packetJson(a?.[0] ?? probes[i]!), reply: maybePacketJson(a?.[1]), answer: a ? row.reply : null, meaning: row.meaning, rtt_ms: row.rtt_ms };
          });
          out(JSON.stringify({ host, port, probes: json }, null, 2) + '\n');
        }
        else {
          const c = palette();
          const paint = (m: string): string =>
            m.startsWith('open|') ? c.yellow(m) : m.startsWith('open') || m.startsWith('unfiltered') ? c.green(m) : m.startsWith('closed') ? c.red(m) : m.startsWith('filtered') ? c.yellow(m) : m;
          const w = [5, 6, Math.max(5, ...rows.map((r) => r.reply.length))];
          const lines = [`probes of ${host.includes(':') ? `[${host}]` : host}:${port}`, `${'PROBE'.padEnd(w[0]! + 2)}${'SENT'.padEnd(w[1]! + 2)}${'REPLY'.padEnd(w[2]! + 2)}MEANING`];
          for (const r of rows) lines.push(`${r.probe.padEnd(w[0]! + 2)}${r.sent.padEnd(w[1]! + 2)}${r.reply.padEnd(w[2]! + 2)}${paint(r.meaning)}`);
          out(lines.join('\n') + '\n');
        }
        return answered.length > 0 ? 0 : EXIT_NO_ANSWER;
      }),
    );
}
