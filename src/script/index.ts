/**
 * Conversation scripts: packetdrill's packet lines, seen from the server under test, run
 * against a live server and checked field by field.
 */
export type { Script, ScriptStatement, ScriptEvent, PacketLine, QuietLine, ScriptOption, TimeSpec, Directive } from './ast.js';
export { parseScript, parseSegment, ScriptSyntaxError } from './parse.js';
export { runScript, type RunOptions, type RunResult } from './runner.js';
export { ScriptSession, ScriptCheckError, type SessionOptions, type Received } from './session.js';
export { recordConversation, traceToScript, type RecordOptions, type Recording, type CloseMode } from './recorder.js';
export { compareSegment, type Mismatch, type CheckField } from './check.js';
export { formatPacketLine, formatView, type SegmentView } from './format.js';
export { SequenceMap } from './sequence-map.js';
export { parseTarget, type Target } from './target.js';
export { parseLocalScript, runLocal, type LocalRunOptions, type LocalRunResult } from './local/run.js';
