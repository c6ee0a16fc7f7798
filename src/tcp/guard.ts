/**
 * The kernel-RST guard's public face; the parts live in guard/ (scope, nft, iptables, records,
 * sweep). Kept so that `./guard.js` imports keep working.
 */
export * from './guard/index.js';
