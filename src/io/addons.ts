/**
 * The two native addons, loaded lazily (so that synack loads, and dissects, on machines where
 * they did not build) and typed by hand: neither ships type definitions.
 */
import { createRequire } from 'node:module';
import { SynackError } from '../wire/errors.js';

/** raw-socket 1.8.1's native handle: send() here is one synchronous sendto. */
export interface RawSocketWrap {
  send(buffer: Buffer, offset: number, length: number, address: string, callback: (bytes: number) => void): void;
  setOption(level: number, option: number, value: number): void;
  close(): void;
}

export interface RawSocket {
  wrap: RawSocketWrap | undefined;
  send(buffer: Buffer, offset: number, length: number, address: string, callback: (error: Error | null, bytes: number) => void): void;
  setOption(level: number, option: number, value: number): void;
  setOption(level: number, option: number, value: Buffer, length: number): void;
  pauseRecv(): RawSocket;
  pauseSend(): RawSocket;
  close(): RawSocket;
  on(event: 'error', listener: (error?: Error) => void): RawSocket;
  on(event: 'close', listener: () => void): RawSocket;
  on(event: string, listener: (...args: unknown[]) => void): RawSocket;
  removeAllListeners(event?: string): RawSocket;
}

export interface RawSocketModule {
  createSocket(options: { protocol: number; addressFamily?: number; bufferSize?: number }): RawSocket;
  AddressFamily: { IPv4: number; IPv6: number };
}

/** cap 0.2.1's capture handle. */
export interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  close(): void;
  send(buffer: Buffer, length?: number): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): CapHandle;
  removeAllListeners(event?: string): CapHandle;
}

export interface CapModule {
  Cap: { new (): CapHandle; deviceList(): Array<{ name: string; addresses: Array<{ addr: string }> }> };
}

export type AddonName = 'raw-socket' | 'cap';

/** The one command that rebuilds both addons for the Node that runs it, from the user's project. */
const REBUILD = 'npm rebuild raw-socket cap';

/** What npm 11 needs in package.json before it runs the addons' install scripts (their builds). */
const ALLOW_SCRIPTS = '"allowScripts": { "raw-socket": true, "cap": true }';

/** raw-socket 1.8.1 pins nan 2.19, which no longer compiles against Node 24's V8. */
const NAN_OVERRIDE = '"overrides": { "raw-socket": { "nan": "^2.22.0" } }';

/** Node's NODE_MODULE_VERSION of each release line (src/node_version.h), to name the Node an addon was built for. */
const NODE_OF_ABI: Readonly<Record<string, string>> = {
  '108': 'Node 18', '111': 'Node 19', '115': 'Node 20', '120': 'Node 21', '127': 'Node 22',
  '131': 'Node 23', '137': 'Node 24', '141': 'Node 25', '147': 'Node 26',
};

let rawModule: RawSocketModule | undefined;
let capModule: CapModule | undefined;

/**
 * Loads an addon, resolving it from `from` (this module by default; tests point it elsewhere).
 * Every failure becomes one line naming the package, this Node and the command that fixes it:
 * the errors from require() and dlopen are several lines of loader internals.
 */
export function loadAddon<T>(name: AddonName, from: string | URL = import.meta.url): T {
  const require = createRequire(from);
  try {
    return require(name) as T;
  } catch (err) {
    throw new SynackError(loadFailure(name, err, isInstalled(require, name)), 'system');
  }
}

function isInstalled(require: NodeJS.Require, name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

function loadFailure(name: AddonName, err: unknown, installed: boolean): string {
  const node = `Node ${process.version}`;
  const needsOverride = Number(process.versions.node.split('.')[0]) >= 24;
  const rebuild = `run \`${REBUILD}\` in your project`;
  const error = err as { code?: string; message?: string };
  const message = String(error.message ?? err);
  if (!installed) return `the native addon ${name} is not installed (${node}): install synack's dependencies again with \`npm install\``;
  if (error.code === 'MODULE_NOT_FOUND') {
    const override = needsOverride ? ` and ${NAN_OVERRIDE} (Node 24 and later)` : '';
    return `the native addon ${name} was installed but never built for ${node} (npm 11 skips install scripts that package.json does not allow): ` +
      `add ${ALLOW_SCRIPTS}${override} to package.json, then ${rebuild} (the build needs g++, make, python3 and libpcap-dev)`;
  }
  const override = needsOverride ? ` with ${NAN_OVERRIDE} in package.json (Node 24 and later)` : '';
  const abi = /NODE_MODULE_VERSION (\d+)\.\s+This version of Node\.js requires\s+NODE_MODULE_VERSION (\d+)/.exec(message);
  if (abi) {
    const builtFor = NODE_OF_ABI[abi[1]!] ?? `NODE_MODULE_VERSION ${abi[1]}`;
    return `the native addon ${name} was built for ${builtFor}, not for this ${node}: ${rebuild}${override}`;
  }
  return `the native addon ${name} cannot be loaded on ${node} (${message.split('\n')[0]}): ${rebuild}${override}`;
}

export function rawSocketAddon(): RawSocketModule {
  return (rawModule ??= loadAddon<RawSocketModule>('raw-socket'));
}

export function capAddon(): CapModule {
  return (capModule ??= loadAddon<CapModule>('cap'));
}
