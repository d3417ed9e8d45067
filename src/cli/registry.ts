import type { Command } from 'commander';

export interface CommandEntry {
  summary: string;
  load: () => Promise<{ register(program: Command): void }>;
}

/**
 * The command map, filled by ./commands/index.ts. Kept apart from main.ts so that main can be run directly
 * (`node src/cli/main.ts`, with its top-level await) without an import cycle back into it.
 */
export const commands: Record<string, CommandEntry> = {};

export function defineCommand(name: string, summary: string, load: CommandEntry['load']): void {
  commands[name] = { summary, load };
}
