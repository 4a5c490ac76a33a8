/** Decodes base64 into raw bytes (terminal output is base64 of what the TTY wrote). */
export function decodeBase64(data: string): Uint8Array {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Incremental UTF-8 decoding of a byte stream (a character may span two chunks). */
export function utf8Stream(): (bytes: Uint8Array) => string {
  const decoder = new TextDecoder("utf-8");
  return (bytes) => decoder.decode(bytes, { stream: true });
}
