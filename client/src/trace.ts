/** A new W3C `traceparent` (version 00, sampled): `connect({ traceparent: newTraceparent })`. */
export function newTraceparent(): string {
  const hex = (bytes: number) => {
    const values = crypto.getRandomValues(new Uint8Array(bytes));
    values[0] ||= 1; // an all-zero id is invalid
    return Array.from(values, (b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `00-${hex(16)}-${hex(8)}-01`;
}
