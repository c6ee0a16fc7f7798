/**
 * The packet list, virtualised: one spacer as tall as every row, and only the rows in sight
 * (plus a few) in the DOM, so 100,000 packets cost what 60 do. Rows are a fixed height.
 */
export const ROW_HEIGHT = 20;
const OVERSCAN = 8;

export class VirtualList {
  private readonly spacer: HTMLDivElement;
  private count = 0;
  private first = -1;
  private last = -1;

  constructor(
    private readonly el: HTMLElement,
    private readonly renderRow: (row: number) => HTMLElement,
  ) {
    this.spacer = document.createElement('div');
    this.spacer.id = 'list-spacer';
    el.append(this.spacer);
    el.addEventListener('scroll', () => this.paint(), { passive: true });
    new ResizeObserver(() => this.paint()).observe(el);
  }

  setCount(count: number): void {
    this.count = count;
    this.spacer.style.height = `${count * ROW_HEIGHT}px`;
    this.refresh();
  }

  /** Draws the rows in sight again (after the selection or the lines changed). */
  refresh(): void {
    this.first = this.last = -1;
    this.paint();
  }

  /** Scrolls so that `row` is in sight. */
  reveal(row: number): void {
    const top = row * ROW_HEIGHT;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + ROW_HEIGHT > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + ROW_HEIGHT - this.el.clientHeight;
    this.paint();
  }

  get visibleRows(): number {
    return Math.max(1, Math.floor(this.el.clientHeight / ROW_HEIGHT));
  }

  private paint(): void {
    const height = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.el.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.count, Math.ceil((this.el.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    if (first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    const rows = document.createDocumentFragment();
    for (let r = first; r < last; r++) {
      const row = this.renderRow(r);
      row.style.top = `${r * ROW_HEIGHT}px`;
      rows.append(row);
    }
    this.spacer.replaceChildren(rows);
  }
}
