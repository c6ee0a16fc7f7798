/** A small element builder: the page makes its DOM by hand, no view library. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: Array<Node | string>): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** A colour per TCP stream (golden-angle hues, so neighbours differ); grey when not TCP. */
export function streamColour(stream: number): string {
  return stream < 0 ? '#c4c9d4' : `hsl(${(stream * 137.508) % 360}, 62%, 52%)`;
}

/** The analysis labels that mean trouble (red) rather than a note (orange). */
export function badgeClass(label: string): string {
  return /Retransmission|Lost|Out-Of-Order|Reset|Zero ?Window|Dup ACK|Previous segment/i.test(label) ? 'badge bad' : 'badge';
}
