/**
 * `synack view FILE [FILTER]`: the capture in the browser. The page is served on 127.0.0.1 at a
 * free port (the address is printed; a desktop's browser is opened when there is one) until
 * Ctrl-C; with --html OUT it is written to one self-contained file instead, which opens
 * offline. handshake, script and demo take --html too (writeHtmlView below).
 */
import type { Command } from 'commander';
import { examples, intOption, note } from './common.js';
import { checkWritable, writeTextFile } from './files.js';
import { action } from './run.js';
import type { ViewInput } from '../view/index.js';

interface ViewOptions {
  html?: string;
  count?: number;
  open?: boolean;
  port?: number;
}

/** Writes a conversation's trace (or packets) as the view, for --html; says where on stderr. */
export async function writeHtmlView(path: string, trace: ViewInput, title: string): Promise<void> {
  const { renderView } = await import('../view/index.js');
  writeTextFile(path, renderView(trace, { title }), 'HTML view');
  note(`view written to ${path}\n`);
}

export function registerView(program: Command): void {
  program
    .command('view')
    .description('a capture in the browser: packet list, filter, layers and bytes, ladders with both states, follow, conversations')
    .argument('<file>', 'a pcap or pcapng file')
    .argument('[filter...]', 'a capture filter, as synack read takes it (only these packets are in the view)')
    .option('--html <out>', 'write the view to one self-contained HTML file (opens offline) instead of serving it')
    .option('-c, --count <n>', 'only the first N packets (that pass the filter)', intOption('count', 1))
    .option('--port <n>', 'serve on this port of 127.0.0.1 (default: a free one)', intOption('port', 1, 65535))
    .option('--no-open', 'do not open a browser, only print the address')
    .addHelpText('after', examples('synack view capture.pcap', "synack view capture.pcap 'tcp port 80'", 'synack view capture.pcap --html capture.html'))
    .action(
      action(async (file: string, filterWords: string[], opts: ViewOptions) => {
        const filterText = filterWords.join(' ');
        const { compileFilter } = await import('../pcap/filter/index.js');
        const filter = filterText.trim() === '' ? undefined : compileFilter(filterText);
        if (opts.html) checkWritable(opts.html, 'HTML view');
        await import('./packet-support.js');
        const { renderFileView } = await import('../view/index.js');
        const html = renderFileView(file, { filter, count: opts.count, title: filterText ? `${file} (${filterText})` : file });
        if (opts.html) {
          writeTextFile(opts.html, html, 'HTML view');
          note(`view written to ${opts.html}\n`);
          return 0;
        }
        const { serveView, hasDesktop, openInBrowser } = await import('../view/serve.js');
        const server = await serveView(html, opts.port);
        process.stdout.write(`synack view: ${server.url} (Ctrl-C stops)\n`);
        if (opts.open !== false && hasDesktop()) openInBrowser(server.url);
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await server.close();
        note('synack view: stopped\n');
        return 0;
      }),
    );
}
