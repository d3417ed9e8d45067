import { defineCommand } from '../main.js';

/** Every command, one line each; the module is imported only when its command runs. */
export function registerAll(): void {
}
