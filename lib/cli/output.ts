/**
 * Everything `herald` writes to a terminal passes here. Request payloads, step names, reasons,
 * error texts and webhook answers are written by merchants (or their receivers), and a terminal
 * obeys control characters: ESC and CSI sequences set the window title, clear the screen or
 * write the clipboard (OSC 52). C0 controls (U+0000 to U+001F), DEL and C1 controls (U+0080 to
 * U+009F) are taken out of text output; only the line breaks the CLI composes itself remain.
 */

const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
/** JSON.stringify escapes C0 controls already; DEL and C1 it leaves raw, and a terminal still reads them. */
const RAW_IN_JSON = /[\u007f-\u009f]/g;

/**
 * A value someone else wrote, made safe to place inside a line: every control character goes,
 * newlines too, so a value can neither command the terminal nor forge a line of its own.
 *
 * @example withoutControls('ok\u001b]0;pwned\u0007\nfake line') === 'ok]0;pwnedfake line'
 */
export function withoutControls(value: unknown): string {
  return String(value).replace(CONTROLS, '');
}

/** Prints the CLI's own text: its line breaks stay, every other control character goes. */
export function printText(text: string): void {
  console.log(text.replace(CONTROLS_BUT_NEWLINE, ''));
}

/** Prints a JSON document whose strings keep their content, with DEL and C1 escaped as `\u` sequences. */
export function printJson(value: unknown, indent?: number): void {
  console.log(jsonText(value, indent));
}

/** JSON text safe on a terminal, and equal to `JSON.stringify`'s once parsed. */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(RAW_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An error message for stderr: the CLI's own text, in which an id or name from the table may appear. */
export function printError(text: string): void {
  console.error(text.replace(CONTROLS_BUT_NEWLINE, ''));
}
