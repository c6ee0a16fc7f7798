/**
 * Recursive-descent parser for the text form: a syntax tree of Python-literal values, layer
 * calls and '/' stacking. No evaluation happens here; values.ts gives the tree its meaning.
 *
 *   expr    := layer ('/' layer)*
 *   layer   := call | string | bytes | '(' expr ')'
 *   call    := NAME '(' [arg (',' arg)* [',']] ')'      arg := [NAME '='] (value | chain)
 *   chain   := call ('/' (call | STRING | BYTES))+           (a packet as a field's value)
 *   value   := term ('*' term)*                            (b'A'*100, Python's repetition)
 *   term    := INT | '-' INT | STRING | BYTES | NAME | call | '(' tuple ')' | '[' list ']'
 */
import { TEXT_LIMITS, clip, textError, tokenize, type Token } from './lexer.js';

export type Node =
  | { type: 'int'; value: number; column: number }
  | { type: 'str'; value: string; column: number }
  | { type: 'bytes'; value: Buffer; column: number }
  | { type: 'name'; name: string; column: number }
  | { type: 'tuple'; items: Node[]; column: number }
  | { type: 'list'; items: Node[]; column: number }
  | { type: 'call'; name: string; args: Node[]; kwargs: Keyword[]; column: number }
  | { type: 'repeat'; value: Node; times: Node; column: number }
  /** Layers joined by '/' as a field's value (pkt=IPv6()/UDP()), as Python reads them there. */
  | { type: 'chain'; layers: Node[]; column: number };

export interface Keyword {
  readonly name: string;
  readonly column: number;
  readonly value: Node;
}

/** The layers of an expression, outermost first: each is a call, a string or bytes. */
export function parseExpression(text: string): Node[] {
  const parser = new Parser(tokenize(text));
  if (parser.peek().kind === 'end') throw textError(1, "empty expression: write a packet like IP(dst='127.0.0.1')/TCP(dport=80)");
  const layers = parser.expression();
  parser.expectEnd();
  return layers;
}

class Parser {
  private pos = 0;
  /** How many parentheses enclose the layer being read. */
  private depth = 0;
  /** How many groups, tuples, lists and calls are open: bounded, so no input can exhaust the stack. */
  private nesting = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private expect(text: string, what: string): Token {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === text) return this.next();
    throw textError(t.column, `expected '${text}' ${what}, found ${describe(t)}`);
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.kind !== 'end') {
      const hint = t.kind === 'punct' && t.text === ')' ? ' (a closing parenthesis with no opening one)' : "; layers are joined with '/'";
      throw textError(t.column, `unexpected ${describe(t)}${hint}`);
    }
  }

  expression(): Node[] {
    const layers = this.layer();
    while (this.isPunct('/')) {
      const slash = this.next();
      for (const l of this.layer()) layers.push(l);
      if (layers.length > TEXT_LIMITS.layers) throw textError(slash.column, `more than ${TEXT_LIMITS.layers} layers in one packet`);
    }
    return layers;
  }

  /** Enters one more level of nesting; the caller leaves it with `this.nesting--`. */
  private enter(column: number): void {
    if (++this.nesting > TEXT_LIMITS.depth) throw textError(column, `nested more than ${TEXT_LIMITS.depth} levels deep`);
  }

  private layer(): Node[] {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      this.enter(t.column);
      this.depth++;
      const inner = this.expression();
      this.depth--;
      this.nesting--;
      this.expect(')', 'to close the group');
      return inner;
    }
    if (t.kind === 'name') {
      const call = this.term();
      if (call.type !== 'call') throw textError(t.column, `'${clip(t.text)}' needs parentheses to be a layer: ${clip(t.text)}()`);
      return [call];
    }
    if (t.kind === 'str' || t.kind === 'bytes') {
      const payload = this.value();
      // In Python, IP()/b'A'*3 is (IP()/b'A')*3, a list of three packets: ask for the parentheses.
      if (payload.type === 'repeat' && this.depth === 0) {
        throw textError(payload.column, "put a repeated payload in parentheses, like IP()/(b'A'*3): in Python '/' and '*' bind equally");
      }
      return [payload];
    }
    throw textError(t.column, `expected a layer like TCP() or a payload string, found ${describe(t)}`);
  }

  /** A keyword's value: a value, or (a layer call first) layers joined by '/' up to the next ',' or ')'. */
  private chainedValue(): Node {
    const first = this.value();
    if (first.type !== 'call' || !this.isPunct('/')) return first;
    const layers: Node[] = [first];
    while (this.isPunct('/')) {
      const slash = this.next();
      const next = this.value();
      if (next.type !== 'call' && next.type !== 'str' && next.type !== 'bytes' && next.type !== 'repeat') {
        throw textError(next.column, `expected a layer like UDP() or a payload string after '/', found ${describe({ kind: 'name', text: '?', column: slash.column })}`);
      }
      layers.push(next);
      if (layers.length > TEXT_LIMITS.layers) throw textError(slash.column, `more than ${TEXT_LIMITS.layers} layers in one packet`);
    }
    return { type: 'chain', layers, column: first.column };
  }

  value(): Node {
    let node = this.term();
    while (this.isPunct('*')) {
      const star = this.next();
      node = { type: 'repeat', value: node, times: this.term(), column: star.column };
    }
    return node;
  }

  private term(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'int':
        return { type: 'int', value: t.value, column: t.column };
      case 'str':
        return { type: 'str', value: t.value, column: t.column };
      case 'bytes':
        return { type: 'bytes', value: t.value, column: t.column };
      case 'name':
        if (this.isPunct('(')) return this.call(t.text, t.column);
        return { type: 'name', name: t.text, column: t.column };
      case 'punct':
        if (t.text === '-') {
          const n = this.next();
          if (n.kind !== 'int') throw textError(t.column, `'-' must be followed by a number, found ${describe(n)}`);
          return { type: 'int', value: -n.value, column: t.column };
        }
        if (t.text === '(' || t.text === '[') {
          this.enter(t.column);
          const node: Node = t.text === '(' ? this.tuple(t.column) : { type: 'list', items: this.items(']', 'to close the list'), column: t.column };
          this.nesting--;
          return node;
        }
        break;
      case 'end':
        throw textError(t.column, 'expression ends too early: a value is missing');
    }
    throw textError(t.column, `expected a value, found ${describe(t)}`);
  }

  /** After '(': a parenthesized value, or a tuple when there is a comma (or nothing). */
  private tuple(column: number): Node {
    if (this.isPunct(')')) {
      this.next();
      return { type: 'tuple', items: [], column };
    }
    const first = this.value();
    if (this.isPunct(')')) {
      this.next();
      return first;
    }
    this.expect(',', 'or \')\' in the tuple');
    const rest = this.items(')', 'to close the tuple');
    return { type: 'tuple', items: [first, ...rest], column };
  }

  /** Comma-separated values up to the closing token, trailing comma allowed. */
  private items(close: string, what: string): Node[] {
    const items: Node[] = [];
    while (!this.isPunct(close)) {
      items.push(this.value());
      if (!this.isPunct(close)) this.expect(',', `or '${close}' ${what}`);
    }
    this.next();
    return items;
  }

  private call(name: string, column: number): Node {
    this.enter(column);
    this.next(); // '('
    const args: Node[] = [];
    const kwargs: Keyword[] = [];
    while (!this.isPunct(')')) {
      const t = this.peek();
      const after = this.tokens[this.pos + 1]!;
      if (t.kind === 'name' && after.kind === 'punct' && after.text === '=') {
        this.pos += 2;
        if (kwargs.some((k) => k.name === t.text)) throw textError(t.column, `field '${clip(t.text)}' is given twice in ${clip(name)}()`);
        kwargs.push({ name: t.text, column: t.column, value: this.chainedValue() });
      } else {
        if (kwargs.length > 0) throw textError(t.column, `a value without a name after named ones in ${clip(name)}(): write field=value`);
        // A packet as the one value of a call: fuzz(IP()/TCP()), as Python reads it.
        args.push(this.chainedValue());
      }
      if (!this.isPunct(')')) this.expect(',', `or ')' to close ${clip(name)}(`);
    }
    this.next();
    this.nesting--;
    return { type: 'call', name, args, kwargs, column };
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'the end';
    case 'name':
      return `'${clip(t.text)}'`;
    case 'punct':
      return `'${t.text}'`;
    case 'int':
      return `number ${t.value}`;
    case 'str':
      return 'a string';
    case 'bytes':
      return 'bytes';
  }
}
