/**
 * The sweep: removes what a crashed synack left behind, and only that. An nft table made with
 * `flags owner` needs no sweep (the kernel removed it with its maker's socket); what is left is
 * what the records name: iptables rules, and nft tables made on kernels without owner tables.
 * A record counts when its process is gone: no such pid, a zombie, or a pid reused by a process
 * that started later. Its table is deleted only if the table's comment carries the record's
 * token; its rules are deleted by their exact text, token included, so nothing someone else made
 * (a table merely named synack_<pid>, a rule merely tagged synack:<pid>) is touched.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { deleteRecord, ownerAlive, readRecords } from './records.js';

const run = promisify(execFile);

/** Removes guards whose owning process is gone (or every recorded one with `all`). Returns what it removed. */
export async function sweepGuards(options: { all?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const record of readRecords()) {
    if (record.pid === process.pid) continue;
    if (!options.all && ownerAlive(record)) continue;
    let complete = true;
    if (record.nftTable) {
      try {
        const { stdout } = await run('nft', ['list', 'table', 'inet', record.nftTable], { timeout: 5000 });
        if (stdout.includes(`comment "synack:${record.token}"`)) {
          await run('nft', ['delete', 'table', 'inet', record.nftTable], { timeout: 5000 });
          removed.push(`nftables table inet ${record.nftTable}`);
        }
      } catch {
        // No such table (already gone) or no nft: nothing of this record left there.
      }
    }
    for (const rule of record.rules) {
      try {
        await run(rule.cmd, ['-D', rule.chain, ...rule.args], { timeout: 5000 });
        removed.push(`${rule.cmd} rule -A ${rule.chain} ${rule.args.join(' ')}`);
      } catch (err) {
        // "does not exist" is the common case (removed already); anything else we keep the record for.
        const msg = String((err as { stderr?: string }).stderr ?? '');
        if (!/does a matching rule exist|No chain\/target\/match|Bad rule/i.test(msg) && (err as NodeJS.ErrnoException).code !== 'ENOENT') complete = false;
      }
    }
    if (complete) deleteRecord(record);
  }
  return removed;
}
