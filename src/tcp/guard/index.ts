/**
 * The kernel-RST guard. A handshake made from crafted packets gets a SYN-ACK the local kernel
 * knows nothing about, so the kernel answers it with a RST and the peer drops the connection.
 * For the life of a conversation we drop the kernel's RSTs for that one 4-tuple, and only
 * those: our own raw socket marks its packets with SO_MARK (SYNACK_MARK), and the rule
 * matches unmarked RSTs, so the RSTs a script crafts still leave.
 *
 * Scope (scope.ts). A guard is either a 4-tuple (what connect() uses, and what listen() narrows
 * to once it has seen the peer's SYN) or a port on one of our addresses with the peer unknown
 * (what listen() needs BEFORE the first SYN arrives, because the kernel answers that SYN with a
 * RST in the same softirq). There is deliberately no way to ask for less than an address and a
 * port: an unscoped rule would make every closed port of the host go silent. Every value is
 * checked and made canonical before it reaches a command.
 *
 * Backends: nftables (nft.ts: one owner table per process, removed by the kernel when we die,
 * however we die) or iptables (iptables.ts: one rule per guard, recorded). sweep.ts removes what
 * the records say a crashed process left. All of this process's guard state lives in one
 * GuardOwner.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SYNACK_MARK } from '../../io/constants.js';
import { onCleanup } from '../../io/cleanup.js';
import { SynackError, usageError } from '../../wire/errors.js';
import { IptablesGuards } from './iptables.js';
import { NftGuards } from './nft.js';
import { newToken, type RuleRecord } from './records.js';
import { describeScope, normaliseScope, type CheckedScope, type GuardScope } from './scope.js';

export { SYNACK_MARK };
export { sweepGuards } from './sweep.js';
export type { FourTuple, PortScope, GuardScope } from './scope.js';

const run = promisify(execFile);

export interface Guard {
  readonly backend: 'nftables' | 'iptables';
  /** The scope as installed: canonical addresses, integer ports. */
  readonly tuple: GuardScope;
  /**
   * Removes the rule; safe to call more than once. With nftables it resolves once the delete
   * is queued (in order with every other table change), not once nft has run it: the rule
   * may outlive the call by ~0.2 ms, never the process. flushGuards() waits for it.
   */
  remove(): Promise<void>;
}

type Backend = 'nftables' | 'iptables';

/** How long the nftables table stays after its last guard goes, in ms (tests may set 0). */
export const guardSettings = { lingerMs: 250 };

/** This process's guards: the backend chosen, this run's token, and each backend's state. */
class GuardOwner {
  readonly token = newToken();
  backend: Backend | undefined;
  readonly nft = new NftGuards({ token: this.token, lingerMs: () => guardSettings.lingerMs });
  private iptablesGuards: IptablesGuards | undefined;

  get iptables(): IptablesGuards {
    return (this.iptablesGuards ??= new IptablesGuards(this.token));
  }

  async chooseBackend(): Promise<Backend> {
    if (this.backend) return this.backend;
    if (await works('nft', ['list', 'tables'])) this.backend = 'nftables';
    else if (await works('iptables', ['-S', 'OUTPUT'])) this.backend = 'iptables';
    else {
      throw new SynackError(
        'cannot install the kernel-RST guard: neither nftables (nft) nor iptables works here; install nftables (apt-get install nftables) and run as root',
        'privilege',
      );
    }
    return this.backend;
  }
}

const owner = new GuardOwner();

async function works(cmd: string, args: string[]): Promise<boolean> {
  try {
    await run(cmd, args, { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

class ActiveGuard implements Guard {
  private removed = false;
  private unregister: (() => void) | undefined;

  constructor(
    readonly backend: Backend,
    readonly tuple: CheckedScope,
    private readonly rule: RuleRecord | undefined,
  ) {
    // nftables guards go with their table (one cleanup for all); iptables rules one by one.
    if (rule) this.unregister = onCleanup(() => this.removeSync());
  }

  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    this.unregister?.();
    try {
      if (this.rule) await owner.iptables.remove(this.rule);
      else owner.nft.remove(this.tuple);
    } catch {
      // Already gone (a sweep, or the exit hook got there first): nothing to undo.
    }
  }

  private removeSync(): void {
    if (this.removed || !this.rule) return;
    this.removed = true;
    owner.iptables.removeSync(this.rule);
  }
}

/**
 * Installs the guard for one conversation (a 4-tuple, our side first) or for one listening
 * address and port. Resolves once the rule is in the kernel.
 */
export async function installGuard(scope: GuardScope, options: { backend?: Backend } = {}): Promise<Guard> {
  const checked = normaliseScope(scope);
  if (options.backend !== undefined && options.backend !== 'nftables' && options.backend !== 'iptables') {
    throw usageError(`unknown guard backend ${JSON.stringify(String(options.backend)).slice(0, 40)}: use 'nftables' or 'iptables'`);
  }
  // Once known, the backend costs no await: this is on connect()'s critical path.
  const which = options.backend ?? owner.backend ?? (await owner.chooseBackend());
  let rule: RuleRecord | undefined;
  try {
    if (which === 'nftables') await owner.nft.add(checked);
    else {
      rule = owner.iptables.rule(checked);
      await owner.iptables.add(rule);
    }
  } catch (err) {
    if (err instanceof SynackError) throw err;
    const msg = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new SynackError(`cannot install the kernel-RST guard for ${describeScope(checked)} with ${which}: ${msg.split('\n')[0]} (run as root)`, 'privilege');
  }
  return new ActiveGuard(which, checked, rule);
}

/**
 * Waits for every guard change asked for so far (removals included), then drops this
 * process's nftables table now if no guard uses it (instead of after the linger).
 */
export async function flushGuards(): Promise<void> {
  await owner.nft.flush();
}

/** This run's token, as carried by the comments of our table and rules (for tests and diagnosis). */
export function guardToken(): string {
  return owner.token;
}
