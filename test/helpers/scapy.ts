/**
 * Scapy 2.5 as an oracle: ONE python process per batch, fed Scapy expressions as JSON lines on
 * stdin, answering one JSON line each on stdout ({hex} or {error}). Scapy's warnings go to
 * stderr and are ignored, so a noisy import cannot corrupt the answers. Debian's python3-scapy
 * lives under /usr/bin/python3 (the pyenv python3 on PATH has no Scapy).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { missing } from './oracle.js';

export const SCAPY_PYTHON = '/usr/bin/python3';

/** One answer per expression, in order: the built bytes as hex, or Scapy's error. */
export type ScapyAnswer = { hex: string; error?: undefined } | { hex?: undefined; error: string };

// Each line is evaluated with Scapy's names in scope; bytes(...) forces a full build (post_build
// fills lengths and checksums). A failing line answers an error and the loop goes on.
const PROGRAM = String.raw`
import sys, json, logging, warnings
warnings.filterwarnings("ignore")
logging.getLogger("scapy").setLevel(logging.ERROR)
from scapy.all import *
from scapy.contrib.igmp import *
from scapy.contrib.igmpv3 import *
conf.verb = 0
scope = dict(globals())
out = sys.stdout
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        value = eval(json.loads(line), scope)
        answer = {"hex": bytes(value).hex()}
    except Exception as e:
        answer = {"error": type(e).__name__ + ": " + str(e)}
    out.write(json.dumps(answer) + "\n")
out.flush()
`;

let availability: string | undefined | null = null;

/** undefined when Scapy can run here, else the reason it cannot (for a skip message). */
export function scapyUnavailable(): string | undefined {
  if (availability !== null) return availability;
  // In CI a missing Scapy fails the suite (missing() throws) instead of skipping it.
  if (!existsSync(SCAPY_PYTHON)) return (availability = missing(`${SCAPY_PYTHON} not found (apt-get install -y python3-scapy)`));
  const probe = spawnSync(SCAPY_PYTHON, ['-c', 'import scapy; print(scapy.VERSION)'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) return (availability = missing(`python3-scapy is not installed for ${SCAPY_PYTHON}`));
  return (availability = undefined);
}

/** Evaluates every expression in one Scapy process; answers come back in the same order. */
export async function scapyBuild(expressions: readonly string[], timeoutMs = 120_000): Promise<ScapyAnswer[]> {
  const child = spawn(SCAPY_PYTHON, ['-u', '-c', PROGRAM], { stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => errChunks.push(c));
  const done = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`scapy did not answer ${expressions.length} expressions within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  // JSON keeps each expression on one line whatever quotes or escapes it holds.
  child.stdin.end(expressions.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const code = await done;
  const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.length > 0);
  if (lines.length !== expressions.length) {
    const stderr = Buffer.concat(errChunks).toString('utf8');
    throw new Error(`scapy answered ${lines.length} of ${expressions.length} expressions (exit ${code}); stderr:\n${stderr.slice(-2000)}`);
  }
  return lines.map((l) => JSON.parse(l) as ScapyAnswer);
}
