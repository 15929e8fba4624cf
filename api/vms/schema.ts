import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { detailKeyOfType, detailKeys, vmsEventTypes, vmsObjectTypes, vmsVerdicts, type VmsEventType } from '../../domain/vms-events.js';
import type { VmsCameraRecord, VmsEvent } from '../../commands/ingest-vms-event.js';
import { bearerAuth, errorResponses, isoDateTime, jsonResponse } from '../openapi-common.js';
import { emptyToUndefined } from '../validate.js';

/**
 * The Ultinous AI Suite event (schema version 5), read as leniently as the VMS's own examples need:
 * numbers may come as strings, snapshots as "" or null, boxes may have zero height, fields this schema does
 * not know are kept, `heartbeat` (deprecated) is read when sent. Strict where a wrong value would mislead:
 * the id and type are required, and a detail block must be the one of the event's type.
 */

/** An integer, or a string of one (the schema's uint64 timestamps come quoted). */
const looseInt = (min: number) =>
  z.preprocess((value) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value), z.number().int().min(min));
const looseNumber = z.preprocess((value) => (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value), z.number());
const looseBoolean = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
/** An enum sent by name or by its number. */
const looseEnum = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((value) => {
    const index = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : undefined;
    if (index !== undefined) return values[index] ?? value;
    return typeof value === 'string' ? value.trim().toUpperCase() : value;
  }, z.enum(values));
const text = z.preprocess((value) => (typeof value === 'number' ? String(value) : value), z.string().max(512));
const optionalText = z.preprocess((value) => (value === null ? undefined : value), text.optional());

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;
/** A base64 JPEG, with or without a data-URL prefix; "" and null mean none was sent. */
const snapshot = z
  .union([z.string(), z.null()])
  .optional()
  .transform((value, ctx) => {
    const bare = (value ?? '').replace(/^data:image\/[a-z]+;base64,/i, '').replace(/\s+/g, '');
    if (bare === '') return null;
    if (!base64Pattern.test(bare) || bare.length % 4 === 1) {
      ctx.addIssue({ code: 'custom', message: 'is not base64' });
      return z.NEVER;
    }
    return Buffer.from(bare, 'base64');
  });

const box = z.looseObject({
  x: looseInt(-100_000),
  y: looseInt(-100_000),
  width: looseInt(0),
  height: looseInt(0),
});

const detection = z.looseObject({
  type: looseEnum(vmsObjectTypes),
  bounding_box: box,
  detection_confidence: looseNumber.pipe(z.number().min(0).max(1)).optional().default(0),
});

const cameraRecord = z
  .looseObject({
    camera_id: text.pipe(z.string().trim().min(1, 'is required')),
    camera_display_name: optionalText,
    camera_technical_name: optionalText,
    width: looseInt(0).optional(),
    height: looseInt(0).optional(),
    source_topic: optionalText,
    frame_timestamp: looseInt(0).nullish(),
    detections: z.array(detection).max(1000).nullish(),
    snapshot,
  })
  .transform(
    (record): VmsCameraRecord => ({
      cameraId: record.camera_id,
      displayName: record.camera_display_name || record.camera_id,
      technicalName: record.camera_technical_name || record.camera_id,
      width: record.width ?? null,
      height: record.height ?? null,
      frameTimestamp: record.frame_timestamp ?? null,
      detections: (record.detections ?? []).map((d) => ({
        type: d.type,
        bounding_box: { x: d.bounding_box.x, y: d.bounding_box.y, width: d.bounding_box.width, height: d.bounding_box.height },
        detection_confidence: d.detection_confidence,
      })),
      snapshot: record.snapshot,
    }),
  );

const crowdDetails = z.looseObject({
  num_of_people: looseInt(0).nullish(),
  sources: z.array(cameraRecord).max(64).nullish(),
});

const intrusionDetails = z.looseObject({
  source: cameraRecord.nullish(),
  end_of_event: looseBoolean.nullish(),
});

const eventEnvelope = z.looseObject({
  id: text.pipe(z.string().trim().min(1, 'is required').max(256)),
  timestamp: looseInt(0).nullish(),
  display_name: optionalText,
  type: looseEnum(vmsEventTypes),
  config_id: optionalText,
  heartbeat: looseBoolean.nullish(),
  schema_version: looseInt(0).nullish(),
});

/** Refuses a detail block other than the type's, and a type other than UNKNOWN without its block. */
function detailBlockOf(body: Record<string, unknown>, type: VmsEventType, ctx: z.RefinementCtx): string | null {
  const present = detailKeys.filter((key) => body[key] !== undefined && body[key] !== null);
  const expected = type === 'UNKNOWN' ? null : detailKeyOfType[type];
  const stray = present.find((key) => key !== expected);
  if (stray) {
    ctx.addIssue({ code: 'custom', path: [stray], message: `does not belong to an event of type ${type}` });
    return null;
  }
  if (expected && !present.includes(expected)) {
    ctx.addIssue({ code: 'custom', path: [expected], message: `is required for an event of type ${type}` });
    return null;
  }
  return expected;
}

/** The body of `POST /api/v1/vms/events`, parsed into the event the ingest command takes. */
export const vmsEventBody = z
  .record(z.string(), z.unknown(), { message: 'must be a JSON object' })
  .transform((body, ctx): VmsEvent => {
    const envelope = eventEnvelope.safeParse(body, { reportInput: true });
    if (!envelope.success) {
      for (const issue of envelope.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message } as never);
      return z.NEVER;
    }
    const event = envelope.data;
    const key = detailBlockOf(body, event.type, ctx);
    if (key === null && event.type !== 'UNKNOWN') return z.NEVER;
    let sources: VmsCameraRecord[] = [];
    let endOfEvent = false;
    let numOfPeople: number | null = null;
    if (key === 'crowd_detection_details') {
      const parsed = crowdDetails.safeParse(body[key], { reportInput: true });
      if (!parsed.success) return forward(parsed.error, key, ctx);
      sources = parsed.data.sources ?? [];
      numOfPeople = parsed.data.num_of_people ?? null;
    } else if (key !== null) {
      const parsed = intrusionDetails.safeParse(body[key], { reportInput: true });
      if (!parsed.success) return forward(parsed.error, key, ctx);
      sources = parsed.data.source ? [parsed.data.source] : [];
      endOfEvent = parsed.data.end_of_event ?? false;
    }
    return {
      id: event.id,
      timestamp: event.timestamp ?? null,
      displayName: event.display_name ?? '',
      type: event.type,
      configId: event.config_id ?? '',
      heartbeat: event.heartbeat ?? false,
      schemaVersion: event.schema_version ?? null,
      endOfEvent,
      numOfPeople,
      detailKey: key,
      sources,
      document: withoutSnapshots(body, key),
    };
  });

function forward(error: z.ZodError, key: string, ctx: z.RefinementCtx): never {
  for (const issue of error.issues) ctx.addIssue({ ...issue, code: 'custom', path: [key, ...issue.path], message: issue.message } as never);
  return z.NEVER as never;
}

/** The event as received, every field kept, with its snapshots' bytes replaced by whether one was sent. */
function withoutSnapshots(body: Record<string, unknown>, key: string | null): Record<string, unknown> {
  if (!key) return body;
  const strip = (record: unknown) =>
    record && typeof record === 'object' ? { ...(record as object), snapshot: snapshotSent((record as { snapshot?: unknown }).snapshot) } : record;
  const details = body[key] as Record<string, unknown>;
  const stripped = Array.isArray(details.sources) ? { ...details, sources: details.sources.map(strip) } : { ...details, source: strip(details.source) };
  return { ...body, [key]: stripped };
}

function snapshotSent(value: unknown): string {
  return typeof value === 'string' && value.trim() !== '' ? '<stored>' : '';
}

export const snapshotParams = z.object({
  event_id: z.string().min(1).max(256),
  camera_technical_name: z.string().min(1).max(512),
});

export const incidentParams = z.object({ incident_id: z.string().min(1).max(128) });

const optional = <S extends z.ZodType>(schema: S) => z.preprocess(emptyToUndefined, schema.optional());

const incidentListFilters = z.object({
    camera_id: optional(z.string().max(512)),
    type: optional(looseEnum(vmsEventTypes)),
    verdict: optional(z.enum(vmsVerdicts)),
    from: optional(z.iso.datetime({ offset: true }).transform((value) => new Date(value))),
    to: optional(z.iso.datetime({ offset: true }).transform((value) => new Date(value))),
    limit: optional(z.coerce.number().int().min(1).max(100)).transform((value) => value ?? 50),
    cursor: optional(z.string().max(300)),
    token: z.string().optional(),
  });

export const incidentListQuery = incidentListFilters.refine((q) => !q.from || !q.to || q.from <= q.to, { path: ['from'], message: 'from must not be after to' });

const vmsBox = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

const incidentDocument = z
  .object({
    incident_id: z.string(),
    status: z.enum(['open', 'closed']),
    verdict: z.enum(vmsVerdicts),
    type: z.enum(vmsEventTypes),
    config_id: z.string(),
    display_name: z.string(),
    camera: z.object({ camera_id: z.string(), technical_name: z.string(), display_name: z.string() }),
    opened_at: isoDateTime,
    last_event_at: isoDateTime,
    verified_at: isoDateTime.nullable(),
    closed_at: isoDateTime.nullable(),
    verification_error: z
      .object({ code: z.literal('VERIFICATION_FAILED'), message: z.string(), failed_at: isoDateTime })
      .nullable()
      .describe('Why the last verification failed (the incident stays open for the next event); null once one succeeds.'),
    decision: z.enum(['No', 'Maybe', 'Yes']).nullable(),
    crime_rate: z.number().int().nullable(),
    description: z.string().nullable(),
    indicators: z.array(z.string()),
    events: z.array(
      z.object({
        event_id: z.string(),
        received_at: isoDateTime,
        frame_timestamp: isoDateTime.nullable(),
        snapshot: z.object({ frame_index: z.number().int() }).nullable(),
        vms_detections: z.array(z.object({ type: z.string(), bounding_box: vmsBox, detection_confidence: z.number() })),
        vigil_detections: z.array(z.object({ object_type: z.string(), confidence: z.number(), box: z.array(z.number()), kept: z.boolean(), filtered_by: z.string().nullable() })),
      }),
    ),
  })
  .meta({ id: 'VmsIncident' });

const cameraDocument = z
  .object({
    camera_id: z.string(),
    technical_name: z.string(),
    display_name: z.string(),
    last_seen_at: isoDateTime,
    status: z.enum(['online', 'offline']),
    status_changed_at: isoDateTime,
  })
  .meta({ id: 'VmsCamera' });

export function registerVmsPaths(registry: OpenAPIRegistry): void {
  const security = bearerAuth;
  registry.registerPath({
    method: 'post',
    path: '/api/v1/vms/events',
    tags: ['VMS'],
    summary: 'Receive an event from a VMS (Ultinous AI Suite schema 5, every type)',
    description:
      'The token comes as `Authorization: Bearer` or in the header the account configured for its VMS (`npm run vigil -- vms set-header`). ' +
      'The event is stored and answered at once; incidents are opened, joined, verified and closed asynchronously.',
    security,
    request: { body: { content: { 'application/json': { schema: z.object({ id: z.string(), type: z.enum(vmsEventTypes) }).loose() } } } },
    responses: {
      200: jsonResponse('Accepted (or a duplicate id, answered the same).', z.object({ event_id: z.string(), duplicate: z.boolean(), incident_ids: z.array(z.string()) })),
      ...errorResponses({ 400: ['VALIDATION_ERROR', 'INVALID_IMAGE'], 401: ['UNAUTHENTICATED'] }),
    },
  });
  registry.registerPath({
    method: 'put',
    path: '/api/v1/vms/snapshot/{event_id}/{camera_technical_name}',
    tags: ['VMS'],
    summary: 'Attach a snapshot to an event (multipart, one image/jpeg part)',
    security,
    request: { params: snapshotParams, body: { content: { 'multipart/form-data': { schema: z.object({ snapshot: z.string().meta({ format: 'binary' }) }) } } } },
    responses: {
      200: jsonResponse('Attached, or held until its event arrives.', z.object({ status: z.enum(['attached', 'pending', 'already_attached']) })),
      ...errorResponses({ 400: ['VALIDATION_ERROR', 'INVALID_IMAGE'], 401: ['UNAUTHENTICATED'] }),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/vms/incidents',
    tags: ['VMS'],
    summary: 'Incidents, newest first, in cursor pages',
    security,
    request: { query: incidentListFilters.omit({ token: true }) },
    responses: {
      200: jsonResponse('A page of incidents.', z.object({ items: z.array(incidentDocument), next_cursor: z.string().nullable() })),
      ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'] }),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/vms/incidents/{incident_id}',
    tags: ['VMS'],
    summary: 'One incident: its events, the VMS\'s boxes, Vigil\'s detections and verdict',
    security,
    request: { params: incidentParams },
    responses: { 200: jsonResponse('The incident.', incidentDocument), ...errorResponses({ 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] }) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/vms/cameras',
    tags: ['VMS'],
    summary: 'The VMS\'s cameras: last seen, online or offline',
    security,
    responses: { 200: jsonResponse('The cameras.', z.object({ items: z.array(cameraDocument) })), ...errorResponses({ 401: ['UNAUTHENTICATED'] }) },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/vms/cameras/{camera_id}',
    tags: ['VMS'],
    summary: 'One of the VMS\'s cameras, by the VMS\'s camera id',
    security,
    request: { params: z.object({ camera_id: z.string() }) },
    responses: { 200: jsonResponse('The camera.', cameraDocument), ...errorResponses({ 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] }) },
  });
}
