import busboy from 'busboy';
import type { Context } from 'koa';
import type { Readable } from 'node:stream';
import { refuseControlCharacters } from './control-characters.js';
import { ApiError, validationError } from './errors.js';
import type { UploadShare } from './upload-memory.js';

export interface MultipartLimits {
  files: number;
  /** The largest file, in bytes. */
  fileBytes: number;
  fields: number;
  /** The longest field value, in bytes. */
  fieldBytes: number;
}

export interface MultipartForm {
  fields: Record<string, string>;
  /** In the order they were sent, with the file name the sender gave ('' when none). */
  files: { field: string; bytes: Buffer; filename: string }[];
}

export interface MultipartReading {
  limits: MultipartLimits;
  /** Every byte held, fields and files, is taken from it as it arrives. */
  memory: UploadShare;
  /** Runs with the fields read so far when the first file begins; no byte of a file is read before it resolves. */
  beforeFirstFile(fields: Readonly<Record<string, string>>): Promise<void>;
  /** The answer to a file past `limits.files`. */
  tooManyFiles(): ApiError;
}

/** Room for each part's boundary and headers, on top of the bytes its content may hold. */
const partFramingBytes = 1024;

const unreadable = () => validationError('body', 'The multipart body could not be parsed.');
const namelessPart = () => validationError('body', 'Every form part needs a name (Content-Disposition: form-data; name="…").');

/**
 * Reads a multipart/form-data body as it arrives. Reading stops at the first problem (a limit, a part without a
 * name, a control character in a field, `beforeFirstFile` refusing, the upload budget), and the rest of the body is
 * never read (errors.ts closes the connection). A client hanging up rejects with the request's own error.
 */
export async function readMultipartForm(ctx: Context, reading: MultipartReading): Promise<MultipartForm> {
  const { limits, memory } = reading;
  const largestBody = limits.files * limits.fileBytes + limits.fields * limits.fieldBytes + (limits.files + limits.fields) * partFramingBytes;
  if (Number(ctx.get('content-length')) > largestBody) {
    throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `The body is longer than a form of ${limits.files} files of at most ${limits.fileBytes} bytes can be.`);
  }
  let parser: busboy.Busboy;
  try {
    // busboy reports a value that reaches its limit; one byte more lets a value of exactly the limit through.
    parser = busboy({
      headers: ctx.req.headers,
      limits: { files: limits.files, fileSize: limits.fileBytes + 1, fields: limits.fields, fieldSize: limits.fieldBytes + 1, parts: limits.files + limits.fields + 1 },
    });
  } catch {
    throw unreadable();
  }

  return new Promise<MultipartForm>((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: MultipartForm['files'] = [];
    const fileReads: Promise<void>[] = [];
    let firstFile: Promise<void> | undefined;
    let settled = false;

    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      ctx.req.unpipe(parser);
      // Not from within busboy's own event, which goes on using the part it is parsing.
      setImmediate(() => parser.destroy());
      reject(error);
    };
    const guarded = (read: () => void) => {
      try {
        read();
      } catch (error) {
        fail(error);
      }
    };

    const readFile = (field: string, filename: string, index: number, stream: Readable) =>
      new Promise<void>((fileRead) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) =>
          guarded(() => {
            memory.take(chunk.length);
            chunks.push(chunk);
          }),
        );
        stream.on('limit', () => fail(new ApiError(413, 'PAYLOAD_TOO_LARGE', `A file is larger than ${limits.fileBytes} bytes.`, { field })));
        stream.on('end', () => {
          files[index] = { field, bytes: Buffer.concat(chunks), filename };
          fileRead();
        });
      });

    parser.on('field', (name, value, info) =>
      guarded(() => {
        if (!name) throw namelessPart();
        if (info.valueTruncated) throw validationError(name, `${name} is longer than ${limits.fieldBytes} bytes.`);
        if (Object.hasOwn(fields, name)) throw validationError(name, `${name} is sent more than once.`);
        refuseControlCharacters(value, name);
        memory.take(Buffer.byteLength(value));
        fields[name] = value;
      }),
    );
    parser.on('file', (name, stream, info) => {
      // busboy fails a file cut short: by the body's end (malformed), or by reading that stopped (settled already).
      stream.on('error', () => fail(unreadable()));
      if (!name) return fail(namelessPart());
      const index = fileReads.length;
      firstFile ??= reading.beforeFirstFile({ ...fields });
      fileReads.push(firstFile.then(() => readFile(name, info.filename ?? '', index, stream)).catch(fail));
    });
    parser.on('filesLimit', () => fail(reading.tooManyFiles()));
    parser.on('fieldsLimit', () => fail(validationError('body', `Send at most ${limits.fields} form fields.`)));
    parser.on('partsLimit', () => fail(validationError('body', 'Too many form parts.')));
    parser.on('error', () => fail(unreadable()));
    parser.on('close', () => {
      void Promise.all(fileReads).then(() => {
        if (settled) return;
        settled = true;
        resolve({ fields, files });
      });
    });
    ctx.req.on('error', fail);
    ctx.req.on('close', () => {
      if (!ctx.req.complete) fail(new Error('The request closed before its body was complete.'));
    });
    ctx.req.pipe(parser);
  });
}

export interface MultipartUploadReading<T> {
  /** The one file field; any other file is refused. */
  fileField: string;
  limits: Pick<MultipartLimits, 'fields' | 'fieldBytes'>;
  /** Consumes the file as it arrives (e.g. into the media store); its rejection fails the form. */
  receive(file: Readable): Promise<T>;
  /** Undoes a received file when the rest of the form then fails. */
  discard(received: T): Promise<void>;
}

/**
 * Reads a multipart/form-data body with one large file, streamed to `receive` as it arrives rather than held
 * in memory, and small fields before or after it. Stops at the first problem, as `readMultipartForm` does.
 */
export async function readMultipartUpload<T>(ctx: Context, reading: MultipartUploadReading<T>): Promise<{ fields: Record<string, string>; received: T }> {
  const { limits, fileField } = reading;
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: ctx.req.headers,
      limits: { files: 1, fields: limits.fields, fieldSize: limits.fieldBytes + 1, parts: limits.fields + 2 },
    });
  } catch {
    throw unreadable();
  }
  const fields: Record<string, string> = {};
  let receiving: Promise<T> | undefined;
  let file: Readable | undefined;

  const parsed = new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      ctx.req.unpipe(parser);
      file?.destroy(error instanceof Error ? error : new Error(String(error)));
      setImmediate(() => parser.destroy());
      reject(error);
    };
    parser.on('field', (name, value, info) => {
      try {
        if (!name) throw namelessPart();
        if (info.valueTruncated) throw validationError(name, `${name} is longer than ${limits.fieldBytes} bytes.`);
        if (Object.hasOwn(fields, name)) throw validationError(name, `${name} is sent more than once.`);
        refuseControlCharacters(value, name);
        fields[name] = value;
      } catch (error) {
        fail(error);
      }
    });
    parser.on('file', (name, stream) => {
      if (name !== fileField) {
        stream.resume();
        return fail(validationError(name || 'body', `Unexpected file field ${name}; send the file as ${fileField}.`));
      }
      file = stream;
      receiving = reading.receive(stream);
      receiving.catch(fail);
    });
    parser.on('filesLimit', () => fail(validationError(fileField, `Send one file, as ${fileField}.`)));
    parser.on('fieldsLimit', () => fail(validationError('body', `Send at most ${limits.fields} form fields.`)));
    parser.on('partsLimit', () => fail(validationError('body', 'Too many form parts.')));
    parser.on('error', () => fail(unreadable()));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    ctx.req.on('error', fail);
    ctx.req.on('close', () => {
      if (!ctx.req.complete) fail(new Error('The request closed before its body was complete.'));
    });
    ctx.req.pipe(parser);
  });

  try {
    await parsed;
  } catch (error) {
    // A file received in full before the form failed is taken back; one cut short cleaned up after itself.
    const received = await receiving?.catch(() => undefined);
    if (received !== undefined) await reading.discard(received);
    throw error;
  }
  if (!receiving) throw validationError(fileField, `Send the file as the form field ${fileField}.`);
  return { fields, received: await receiving };
}
