import { ApiError } from './errors.js';

/** What a client refused for a full budget should wait: the uploads ahead of it are read and answered within seconds. */
const retryAfterSeconds = 5;

/** A request's part of the budget: its bytes are taken as they arrive and all given back when it ends. */
export interface UploadShare {
  /** Holds `bytes` more; 503 SERVICE_UNAVAILABLE when the budget is full, 413 when this request alone would overrun it. */
  take(bytes: number): void;
  release(): void;
}

/**
 * The bytes of request bodies the API holds in memory, across all requests, kept within one budget
 * (API_UPLOAD_MEMORY_BYTES), so that many uploads at once cannot exhaust the process.
 */
export class UploadMemory {
  #heldBytes = 0;

  constructor(
    readonly budgetBytes: number,
    /** Told the bytes held after every change (the `vigil_api_upload_bytes_held` gauge). */
    private readonly held: { set(bytes: number): void },
  ) {}

  share(): UploadShare {
    let mine = 0;
    return {
      take: (bytes) => {
        if (this.#heldBytes + bytes > this.budgetBytes) {
          if (mine + bytes > this.budgetBytes) {
            throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `The request is larger than the ${this.budgetBytes} bytes the server holds at once.`);
          }
          throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'The server holds as many uploads as it can; try again shortly.', { retryAfterSeconds });
        }
        mine += bytes;
        this.#change(bytes);
      },
      release: () => {
        this.#change(-mine);
        mine = 0;
      },
    };
  }

  #change(bytes: number): void {
    this.#heldBytes += bytes;
    this.held.set(this.#heldBytes);
  }
}
