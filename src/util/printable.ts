/**
 * Text that came from outside (a file's bytes, a library's message quoting them, a name from a header) made
 * safe for a one-line error message: control characters, line and paragraph separators and bidirectional
 * overrides become `\u…` escapes, whitespace runs become one space, and the result is cut to `max` characters.
 */
export function printable(text: string, max = 160): string {
  // C0 and C1 controls, DEL, U+2028/2029, bidi embeddings/overrides/isolates, BOM, lone surrogates.
  // eslint-disable-next-line no-control-regex
  const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  const escaped = text
    .replace(/[\t\n\r]+/g, ' ')
    .replace(unsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/ {2,}/g, ' ')
    .trim();
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

/**
 * Why JSON.parse refused a text, without V8's quote of the text itself (`Unexpected token 'x', "…" is not
 * valid JSON`): the kind of error and, where V8 gives it, the position.
 */
export function jsonParseReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(message)?.[1];
  const token = /^Unexpected token '(.+?)', ".*" is not valid JSON$/s.exec(message)?.[1];
  let kind: string;
  if (/^Unexpected end of JSON input/.test(message)) kind = 'unexpected end of JSON';
  else if (/^Unexpected non-whitespace character after JSON/.test(message)) kind = 'more data after the JSON value';
  else if (token !== undefined) kind = `unexpected character ${printable(JSON.stringify(token), 16)}`;
  else if (/^(Expected|Bad control character|Bad escaped character|Exponent part|No number after|Unterminated string)/.test(message)) {
    kind = printable(message.replace(/ in JSON at position.*$/s, ''), 60).replace(/^./, (c) => c.toLowerCase());
  } else kind = 'not JSON';
  return position !== undefined ? `${kind} at character ${position}` : kind;
}
