/**
 * Strict UTF-8: a body that is not valid UTF-8 is refused, never silently repaired into U+FFFD
 * (a PATCH once stored "\ufffd\ufffd" as a connection name).
 */
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of the bytes, or undefined when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}
