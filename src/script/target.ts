/** The server under test: 'HOST:PORT' parsed, and a conversation wired to it (nothing sent yet). */
import { ephemeralPort, openConversation } from '../tcp/connect.js';
import type { Conversation } from '../tcp/conversation.js';
import { isIPv4, isIPv6 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';

export interface Target {
  host: string;
  port: number;
}

/** '127.0.0.1:8080', '[::1]:8080' (or '::1:8080' is refused: ambiguous). */
export function parseTarget(text: string): Target {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw usageError(`bad target '${text}': give HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080`);
  const host = m[1]!;
  const port = Number(m[2]);
  if (!isIPv4(host) && !isIPv6(host)) throw usageError(`bad target '${text}': '${host}' is not an IPv4 or IPv6 address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`bad target '${text}': port ${m[2]} is out of range (1-65535)`);
  return { host, port };
}

export function formatTarget(t: Target): string {
  return isIPv6(t.host) ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** A conversation to the target that sends nothing on its own: the script decides every segment. */
export async function connectTarget(target: string | Target, opts: { sport?: number | undefined; isn?: number | undefined } = {}): Promise<Conversation> {
  const t = typeof target === 'string' ? parseTarget(target) : target;
  return openConversation(
    { dst: t.host, dport: t.port, sport: opts.sport ?? ephemeralPort() },
    { autoAck: false, ...(opts.isn !== undefined ? { isn: opts.isn } : {}) },
  );
}
