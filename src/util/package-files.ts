import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Files the package serves or inlines at run time (the station page's browser code, the report's script, uPlot),
 * read as they are: no build step. The package root is the same from src/ (tsx) and from dist/ (the built
 * package), both one level below it; the browser files stay in src/ and package.json "files" ships them.
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A path inside the package, e.g. packageFile('src/observe/station-page/assets/station.js'). */
export const packageFile = (relative: string): string => `${PACKAGE_ROOT}${relative}`;

const require = createRequire(import.meta.url);

/** uPlot's browser build and stylesheet, from node_modules (a dependency). */
export const uplotFile = (name: 'uPlot.iife.min.js' | 'uPlot.min.css'): string => require.resolve(`uplot/dist/${name}`);
