import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * A small glob: `*` and `?` within a path segment, `**` across segments, `{a,b}` alternatives, `[abc]` classes.
 * (Node 20's `fs.glob` does not exist and `path.matchesGlob` is experimental and warns on every process.)
 */
export interface GlobPattern {
  /** The directory to walk: the leading segments without wildcards. */
  base: string;
  /** Matches paths relative to `base`, with `/` separators. */
  regex: RegExp;
  /** Whether matches may be in subdirectories (pattern has `**` or several segments). */
  maxDepth: number;
}

const WILDCARD = /[*?[{]/;

export function compileGlob(pattern: string, cwd = process.cwd()): GlobPattern {
  const absolute = path.resolve(cwd, pattern).split(path.sep).join('/');
  const segments = absolute.split('/');
  const firstWild = segments.findIndex((s) => WILDCARD.test(s));
  if (firstWild === -1) {
    // A plain path: a file matches itself; a directory means "every file directly in it".
    return { base: path.dirname(absolute), regex: new RegExp(`^${escapeRegex(path.basename(absolute))}$`), maxDepth: 1 };
  }
  const base = segments.slice(0, firstWild).join('/') || '/';
  const rest = segments.slice(firstWild);
  const maxDepth = rest.includes('**') ? Infinity : rest.length;
  return { base, regex: new RegExp(`^${rest.map((seg, i) => (seg === '**' && i === rest.length - 1 ? '.*' : segmentToRegex(seg))).join('/').replace(/\(\?:\.\*\/\)\?\//g, '(?:.*/)?')}$`), maxDepth };
}

function segmentToRegex(segment: string): string {
  if (segment === '**') return '(?:.*/)?';
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end === -1) out += '\\[';
      else {
        const body = segment.slice(i + 1, end);
        out += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = segment.indexOf('}', i + 1);
      if (end === -1) out += '\\{';
      else {
        out += `(?:${segment.slice(i + 1, end).split(',').map(escapeRegex).join('|')})`;
        i = end;
      }
    } else out += escapeRegex(c);
  }
  return out;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Every regular file matching the pattern, as absolute paths, sorted (code-unit order, like `ls` in C locale). */
export async function listGlob(glob: GlobPattern): Promise<string[]> {
  const found: string[] = [];
  await walk(glob, glob.base, '', 1, found, new Set());
  return found.sort();
}

/**
 * `seen` holds the device:inode of the folders on the current path down, so that a symlink to an ancestor
 * (`shots/loop -> ..`) with `**` is not followed round and round, listing every image once per lap.
 */
async function walk(glob: GlobPattern, dir: string, rel: string, depth: number, found: string[], seen: Set<string>): Promise<void> {
  let entries;
  let id;
  try {
    const s = await stat(dir);
    id = `${s.dev}:${s.ino}`;
    if (seen.has(id)) return;
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // a missing folder simply has no matches (a camera may create it later)
  }
  seen.add(id);
  for (const entry of entries) {
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    const full = `${dir === '/' ? '' : dir}/${entry.name}`;
    let isFile = entry.isFile();
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      const s = await stat(full).catch(() => undefined);
      isFile = !!s?.isFile();
      isDir = !!s?.isDirectory();
    }
    if (isFile && glob.regex.test(relPath)) found.push(full);
    else if (isDir && depth < glob.maxDepth) await walk(glob, full, relPath, depth + 1, found, seen);
  }
  seen.delete(id); // only ancestors count: two links to one sibling folder are listed under both paths, as find -L does
}
