// The part of busboy's API that api/multipart.ts uses (the package ships no types).
declare module 'busboy' {
  import type { IncomingHttpHeaders } from 'node:http';
  import type { Readable, Writable } from 'node:stream';

  namespace busboy {
    interface Limits {
      fieldSize?: number;
      fields?: number;
      fileSize?: number;
      files?: number;
      parts?: number;
    }
    interface Config {
      headers: IncomingHttpHeaders;
      limits?: Limits;
    }
    interface FieldInfo {
      nameTruncated: boolean;
      valueTruncated: boolean;
      encoding: string;
      mimeType: string;
    }
    interface FileInfo {
      filename: string | undefined;
      encoding: string;
      mimeType: string;
    }
    interface Busboy extends Writable {
      /** `name` is undefined for a part whose Content-Disposition has none. */
      on(event: 'field', listener: (name: string | undefined, value: string, info: FieldInfo) => void): this;
      /** The stream emits 'limit' when the file reaches `limits.fileSize`. */
      on(event: 'file', listener: (name: string | undefined, stream: Readable, info: FileInfo) => void): this;
      on(event: 'partsLimit' | 'filesLimit' | 'fieldsLimit' | 'close', listener: () => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
      on(event: string | symbol, listener: (...args: never[]) => void): this;
    }
  }

  /** Throws for a missing or malformed Content-Type (no boundary). */
  function busboy(config: busboy.Config): busboy.Busboy;
  export = busboy;
}
