import type { Readable } from 'node:stream';
import type { Context } from 'koa';
import parseRange from 'range-parser';
import type { MediaStore } from '../media/store.js';
import { ApiError } from './errors.js';

/**
 * Serving stored media with HTTP range requests (RFC 9110 §14): 206 with Content-Range for one
 * satisfiable range, 416 for none, the whole body for no, malformed or multi-range requests (a server
 * may ignore Range) and for an If-Range that no longer matches. Conditional GETs answer 304.
 */

/** Inclusive byte offsets. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeOutcome = { kind: 'full' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

export interface ServableMedia {
  size: number;
  contentType: string;
  /** A strong validator: it changes whenever the bytes do. */
  etag: string;
  lastModified?: Date;
  open(range?: ByteRange): Readable | Buffer;
}

export function resolveRange(header: string | undefined, size: number): RangeOutcome {
  if (!header) return { kind: 'full' };
  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -2) return { kind: 'full' };
  if (ranges === -1) return { kind: 'unsatisfiable' };
  const [first] = ranges;
  if (ranges.type !== 'bytes' || ranges.length !== 1 || !first) return { kind: 'full' };
  return { kind: 'partial', range: { start: first.start, end: first.end } };
}

export function sendMedia(ctx: Context, media: ServableMedia, options: { cacheControl: string }): void {
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('Cache-Control', options.cacheControl);
  ctx.set('ETag', media.etag);
  if (media.lastModified) ctx.lastModified = media.lastModified;
  // `fresh` compares If-None-Match and If-Modified-Since, and only for a 2xx status.
  ctx.status = 200;
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  const ifRange = ctx.get('if-range');
  const outcome: RangeOutcome = ifRange && ifRange !== media.etag ? { kind: 'full' } : resolveRange(ctx.get('range') || undefined, media.size);
  if (outcome.kind === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${media.size}`);
    throw new ApiError(416, 'RANGE_NOT_SATISFIABLE', `The requested range is outside the ${media.size} bytes of this media.`);
  }
  ctx.type = media.contentType;
  if (outcome.kind === 'partial') {
    const { start, end } = outcome.range;
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${start}-${end}/${media.size}`);
    ctx.body = media.open(outcome.range);
    ctx.length = end - start + 1;
  } else {
    ctx.body = media.open();
    ctx.length = media.size;
  }
}

export function bufferMedia(bytes: Buffer, contentType: string, etag: string): ServableMedia {
  return {
    size: bytes.length,
    contentType,
    etag,
    open: (range) => (range ? bytes.subarray(range.start, range.end + 1) : bytes),
  };
}

/** A stored object, streamed from the media store; undefined when the key holds nothing. */
export async function storedMedia(
  store: MediaStore,
  key: string,
  contentType: string,
  etag?: string,
): Promise<ServableMedia | undefined> {
  const info = await store.stat(key);
  if (!info) return undefined;
  return {
    size: info.size,
    contentType,
    etag: etag ?? `"${info.size.toString(16)}-${info.modifiedAt.getTime().toString(16)}"`,
    lastModified: info.modifiedAt,
    open: (range) => store.read(key, range),
  };
}
