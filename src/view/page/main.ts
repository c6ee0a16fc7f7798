/**
 * The view page's entry: styles in, the data parsed, the view drawn. The packet runtime
 * (layer registry, link types) is imported for dissect(), as the CLI does.
 */
import css from './style.css';
import '../../packet/factories.js';
import '../../packet/link-types.js';
import type { ViewData } from '../data.js';
import { provideFiles } from './fs-shim.js';
import { View } from './view.js';

const style = document.createElement('style');
style.textContent = css;
document.head.append(style);
const data = JSON.parse(document.getElementById('synack-data')!.textContent!) as ViewData;
provideFiles(data.files);
new View(data, document.body);
// The first paint of the list, for the benchmark (bench/view.ts).
requestAnimationFrame(() => performance.mark('synack-first-paint'));
