import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Vigil's typed search attributes, registered by the dev-server bootstrap (temporal/dev-server.ts) and listed
 * in the README for clusters. Only @temporalio/common is imported so workflow code can
 * use these keys. Values are identifiers and outcomes only: no secrets or personal data.
 */

/** alarm, video, image_batch, classification or vms_incident. */
export const VigilJobKind = defineSearchAttributeKey('VigilJobKind', SearchAttributeType.KEYWORD);
export const VigilAccount = defineSearchAttributeKey('VigilAccount', SearchAttributeType.KEYWORD);
export const VigilGroupId = defineSearchAttributeKey('VigilGroupId', SearchAttributeType.KEYWORD);
export const VigilSiteId = defineSearchAttributeKey('VigilSiteId', SearchAttributeType.KEYWORD);
export const VigilZoneId = defineSearchAttributeKey('VigilZoneId', SearchAttributeType.KEYWORD);
export const VigilSiteCategory = defineSearchAttributeKey('VigilSiteCategory', SearchAttributeType.KEYWORD);
export const VigilVendorEventId = defineSearchAttributeKey('VigilVendorEventId', SearchAttributeType.KEYWORD);
export const VigilStage = defineSearchAttributeKey('VigilStage', SearchAttributeType.KEYWORD);
export const VigilDecision = defineSearchAttributeKey('VigilDecision', SearchAttributeType.KEYWORD);
/** 0 No, 1 Maybe, 2 Yes. */
export const VigilCrimeRate = defineSearchAttributeKey('VigilCrimeRate', SearchAttributeType.INT);

/** Every key, for registration (dev server bootstrap, README list for clusters). */
export const vigilSearchAttributes = [
  VigilJobKind,
  VigilAccount,
  VigilGroupId,
  VigilSiteId,
  VigilZoneId,
  VigilSiteCategory,
  VigilVendorEventId,
  VigilStage,
  VigilDecision,
  VigilCrimeRate,
] as const;
