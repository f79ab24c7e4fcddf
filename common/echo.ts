// How much of a caller's own input an error message repeats. A message that named an
// unknown 10 MiB parameter whole answered with 30 MiB (issue 11); every transport shows
// these messages, so the cut is made once, here.

/** Characters of a caller's own input (a name, a value) an error message repeats at most. */
export const ECHO_CHARS = 64;
/** Characters of an error message at most: a message repeats input only clipped, this is the backstop. */
export const MAX_ERROR_MESSAGE_CHARS = 4096;

/** Input repeated in a message, cut to `chars` with an ellipsis. */
export function clipEcho(text: string, chars: number = ECHO_CHARS): string {
  return text.length > chars ? `${text.slice(0, chars)}…` : text;
}
