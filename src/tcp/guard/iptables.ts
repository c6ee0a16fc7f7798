/**
 * The iptables backend, for hosts without nftables: one rule per guard, added and removed by
 * one `iptables` (or `ip6tables`) run each. Every rule carries the comment
 * `synack:<pid>:<token>` and is written into this run's record before it is inserted, so a sweep
 * after a crash can remove exactly the rules we made (the kernel keeps iptables rules after
 * their maker dies: there is no owner flag here).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { SYNACK_MARK } from '../../io/constants.js';
import { deleteRecord, processIdentity, writeRecord, type GuardRecord, type RuleRecord } from './records.js';
import { isFourTuple, type CheckedScope } from './scope.js';

const run = promisify(execFile);

export class IptablesGuards {
  private readonly record: GuardRecord;

  constructor(token: string) {
    this.record = { pid: process.pid, start: processIdentity(process.pid)?.start ?? 0, token, rules: [] };
  }

  /** The rule for a checked scope: canonical addresses and integer ports only. */
  rule(s: CheckedScope): RuleRecord {
    const peer = isFourTuple(s) ? ['-d', s.dst, '--dport', String(s.dport)] : [];
    return {
      cmd: s.family === 6 ? 'ip6tables' : 'iptables',
      chain: 'OUTPUT',
      args: ['-p', 'tcp', '-s', s.src, '--sport', String(s.sport), ...peer,
        '--tcp-flags', 'RST', 'RST', '-m', 'mark', '!', '--mark', String(SYNACK_MARK),
        '-m', 'comment', '--comment', `synack:${process.pid}:${this.record.token}`, '-j', 'DROP'],
    };
  }

  async add(rule: RuleRecord): Promise<void> {
    // Recorded first: a crash between the two leaves a record whose -D fails, never a rule without one.
    this.record.rules.push(rule);
    writeRecord(this.record);
    try {
      await run(rule.cmd, ['-I', rule.chain, ...rule.args], { timeout: 5000 });
    } catch (err) {
      this.forget(rule);
      throw err;
    }
  }

  async remove(rule: RuleRecord): Promise<void> {
    try {
      await run(rule.cmd, ['-D', rule.chain, ...rule.args], { timeout: 5000 });
    } finally {
      this.forget(rule);
    }
  }

  removeSync(rule: RuleRecord): void {
    try {
      execFileSync(rule.cmd, ['-D', rule.chain, ...rule.args], { stdio: 'ignore', timeout: 5000 });
    } catch {
      // Best effort at exit.
    }
    this.forget(rule);
  }

  private forget(rule: RuleRecord): void {
    const i = this.record.rules.indexOf(rule);
    if (i >= 0) this.record.rules.splice(i, 1);
    try {
      if (this.record.rules.length === 0) deleteRecord(this.record);
      else writeRecord(this.record);
    } catch {
      // The state directory went away: the rule itself is what mattered.
    }
  }
}
