import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { MmaerecError } from '../errors.js';

/**
 * The grammar every command shares (issue 20): `--version`; help that marks required flags and shows defaults as
 * the value one would type (commander quotes string defaults: `(default: "500")`); and the model bundle as
 * `--model <bundle>` everywhere, where `inspect` and `info` also keep their older positional form.
 */

const packageJson = new URL('../../package.json', import.meta.url);

/** The package's version (src/cli and dist/cli both sit two folders below package.json). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

/** A flag's help text: `(required)` on mandatory flags, `(default: 500)` for defaults. */
function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.mandatory) extra.push('required');
  if (option.defaultValue !== undefined && (option.required || option.optional)) {
    extra.push(`default: ${option.defaultValueDescription ?? String(option.defaultValue)}`);
  }
  return extra.length ? `${option.description} (${extra.join(', ')})` : option.description;
}

/** Applies the shared grammar to the root command; subcommands inherit the help settings. */
export function configureGrammar(program: Command): Command {
  return program
    .version(packageVersion(), '-V, --version', 'print the version of mmaerec-edge')
    .configureHelp({ optionDescription });
}

export const MODEL_FLAG = '--model <bundle>';

/** `--model <bundle>` as a flag of its own (a required one unless the command keeps a positional alias). */
export function modelOption(description = 'model bundle directory (manifest.json, model.onnx)', required = true): Option {
  const option = new Option(MODEL_FLAG, description);
  return required ? option.makeOptionMandatory() : option;
}

/**
 * The bundle of a command that takes `--model <bundle>` or, in the older form, the bundle as its first argument.
 * Both at once must agree; neither is an error naming the flag.
 */
export function bundleFrom(command: string, flag: string | undefined, positional: string | undefined): string {
  if (flag !== undefined && positional !== undefined && flag !== positional) {
    throw new MmaerecError('E_CONFIG', `${command}: the bundle is given twice (--model ${flag} and ${positional}): pass it once, as --model <bundle>`);
  }
  const bundle = flag ?? positional;
  if (bundle === undefined) throw new MmaerecError('E_CONFIG', `${command} needs a model bundle: pass --model <bundle>`);
  return bundle;
}
