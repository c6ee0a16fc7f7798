/**
 * The ways out for prepared packets, opened on first use and closed together: one raw socket
 * per address family (bound to an interface when the user named one), or frame injection.
 */
import { RawSender } from '../io/raw-sender.js';
import type { Outgoing } from './prepare.js';

export class L3Senders {
  private readonly v4: Map<string, RawSender> = new Map();
  private readonly v6: Map<string, RawSender> = new Map();
  private readonly iface: string | undefined;
  private last: RawSender | undefined;

  /** `iface`: bind the sockets to this interface (SO_BINDTODEVICE). */
  constructor(iface?: string) {
    this.iface = iface;
  }

  /** Opens the sockets these packets need now, so that errors come before anything leaves. */
  open(items: readonly Outgoing[]): void {
    for (const item of items) this.senderFor(item);
  }

  private senderFor(item: Outgoing): RawSender {
    // The socket the last packet took: a flood asks for the same one every time.
    const last = this.last;
    if (last && last.family === item.family && last.isOpen) return last;
    const pool = item.family === 6 ? this.v6 : this.v4;
    const key = this.iface ?? '';
    let sender = pool.get(key);
    if (!sender || !sender.isOpen) {
      sender = new RawSender(item.family, this.iface);
      pool.set(key, sender);
    }
    this.last = sender;
    return sender;
  }

  readonly trySend = (item: Outgoing): boolean => this.senderFor(item).trySend(item.bytes, item.dst);

  close(): void {
    for (const s of this.v4.values()) s.close();
    for (const s of this.v6.values()) s.close();
    this.v4.clear();
    this.v6.clear();
    this.last = undefined;
  }
}
