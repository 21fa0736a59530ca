/**
 * `Content-Disposition: attachment` for a download (RFC 6266): `filename*` carries the sanitised
 * name in UTF-8 (RFC 8187), `filename` an ASCII fallback for old clients, with quotes, backslashes
 * and anything outside printable ASCII replaced. Always `attachment`: a stored HTML or SVG file is
 * never rendered by the browser on this origin (with `X-Content-Type-Options: nosniff`).
 */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
