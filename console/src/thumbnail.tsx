/**
 * Image records' thumbnails: `quiver ingest` of a folder of images stores each image's thumbnail in
 * its payload (`thumbnail`, a JPEG `data:` URL of at most 64 px, docs/images.md). The records view
 * and the embedding map show it as a picture, and its text is left out of the payload shown beside.
 */
import { Json } from "./ui";

/** A payload's thumbnail when it is an image `data:` URL (the only kind the page's CSP loads), else null. */
export function thumbnailOf(payload: Record<string, unknown> | undefined): string | null {
  const t = payload?.thumbnail;
  return typeof t === "string" && /^data:image\/(jpeg|png|gif|webp);base64,/.test(t) ? t : null;
}

export function Thumbnail({ payload, label }: { payload: Record<string, unknown> | undefined; label: string }) {
  const src = thumbnailOf(payload);
  return src ? <img class="thumbnail" src={src} alt={label} data-thumbnail={label} /> : null;
}

/** A payload as JSON, its thumbnail (shown as a picture) replaced by a note. */
export function PayloadJson({ payload }: { payload: Record<string, unknown> | undefined }) {
  const p = payload ?? {};
  return <Json value={thumbnailOf(p) ? { ...p, thumbnail: "(the picture above)" } : p} />;
}
