/**
 * A decoded video frame as the media layer hands it over: raw pixels, row by row, either RGB (3 bytes
 * per pixel) or grey (1 byte per pixel) depending on what the caller asked the decoder for. Declared
 * here structurally so domain code never imports media/.
 */
export interface DecodedFrame {
  /** 0-based position in the decoded stream. */
  index: number;
  /** Presentation time in seconds from the start of the video. */
  timestampS: number;
  width: number;
  height: number;
  data: Uint8Array;
}

/** Throws unless `frame.data` holds exactly width × height × `channels` bytes. */
export function assertFrameBytes(frame: DecodedFrame, channels: 1 | 3): void {
  const expected = frame.width * frame.height * channels;
  if (frame.data.length !== expected) {
    const format = channels === 3 ? 'RGB' : 'grey';
    throw new RangeError(`a ${frame.width}×${frame.height} ${format} frame needs ${expected} bytes, got ${frame.data.length}`);
  }
}
